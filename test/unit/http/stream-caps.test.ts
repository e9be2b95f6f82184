import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { StreamCaps } from '../../../src/http/stream-caps.js';

const stream = { headers: { accept: 'text/event-stream' } } as unknown as IncomingMessage;
const json = { headers: { accept: 'application/json' } } as unknown as IncomingMessage;
const response = () => new EventEmitter() as unknown as ServerResponse;

describe('StreamCaps', () => {
  it('admits a holder’s streams up to its limit, refuses the next, and frees a place when one closes', () => {
    const caps = new StreamCaps({ perTenant: 2 });
    const holders = caps.holders({ tenantId: 'alpha', subject: null });
    const [a, b, c] = [response(), response(), response()];
    expect(caps.admit(stream, a, holders)).toBeNull();
    expect(caps.admit(stream, b, holders)).toBeNull();
    expect(caps.admit(stream, c, holders)).toMatchObject({ setting: 'SSE_STREAMS_PER_TENANT', limit: 2 });
    expect(caps.admit(stream, response(), caps.holders({ tenantId: 'beta', subject: null }))).toBeNull();
    (a as unknown as EventEmitter).emit('close');
    expect(caps.openFor('tenant:alpha')).toBe(1);
    expect(caps.admit(stream, c, holders)).toBeNull();
  });

  it('does not count requests that are not event streams', () => {
    const caps = new StreamCaps({ perTenant: 1 });
    for (let i = 0; i < 5; i++)
      expect(caps.admit(json, response(), caps.holders({ tenantId: 'alpha', subject: null }))).toBeNull();
    expect(caps.openFor('tenant:alpha')).toBe(0);
  });

  it('counts a session’s streams against its end user’s own limit too, and Apollo multipart subscriptions like SSE', () => {
    const caps = new StreamCaps({ perTenant: 3, perSubject: 1 });
    const alice = caps.holders({ tenantId: 'alpha', subject: 'alice' });
    const multipart = {
      headers: { accept: 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/json' },
    } as unknown as IncomingMessage;
    expect(caps.admit(multipart, response(), alice)).toBeNull();
    expect(caps.admit(stream, response(), alice)).toMatchObject({
      setting: 'SSE_STREAMS_PER_SUBJECT',
      limit: 1,
    });
    expect(caps.admit(stream, response(), caps.holders({ tenantId: 'alpha', subject: 'bob' }))).toBeNull();
    expect(caps.admit(stream, response(), caps.holders({ tenantId: 'alpha', subject: null }))).toBeNull();
    expect(
      caps.admit(stream, response(), caps.holders({ tenantId: 'alpha', subject: 'carol' })),
    ).toMatchObject({
      setting: 'SSE_STREAMS_PER_TENANT',
    });
  });
});
