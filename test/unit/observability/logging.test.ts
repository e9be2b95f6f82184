import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { requestIdFrom } from '../../../src/observability/logging.js';

describe('requestIdFrom', () => {
  it('keeps a client id of at most 64 plain characters', () => {
    expect(requestIdFrom('abc-DEF.1_2')).toEqual({ requestId: 'abc-DEF.1_2' });
    expect(requestIdFrom(['first-id', 'second'])).toEqual({ requestId: 'first-id' });
    expect(requestIdFrom('x'.repeat(64)).requestId).toBe('x'.repeat(64));
  });

  it('makes a fresh id without a client id, or for an empty one', () => {
    expect(requestIdFrom(undefined).clientRequestId).toBeUndefined();
    expect(requestIdFrom('').clientRequestId).toBeUndefined();
    expect(requestIdFrom(undefined).requestId).not.toBe(requestIdFrom(undefined).requestId);
  });

  it('never takes an unfit id as the request id, and keeps at most 64 characters of it, without control characters', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 300 }), (sent) => {
        const scope = requestIdFrom(sent);
        if (/^[A-Za-z0-9._-]{1,64}$/.test(sent)) {
          expect(scope).toEqual({ requestId: sent });
          return;
        }
        expect(scope.requestId).not.toBe(sent);
        expect(scope.requestId).toMatch(/^[0-9a-f-]{36}$/);
        expect(scope.clientRequestId?.length).toBeLessThanOrEqual(64);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: what must not be logged
        expect(scope.clientRequestId).not.toMatch(/[\u0000-\u001f\u007f]/);
      }),
    );
  });
});
