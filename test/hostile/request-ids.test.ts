import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect } from 'vitest';
import { GENERATE_INPUT, transparentPng } from '../support/fixtures.js';
import { eventually, type TestStack, uploadOperation } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';

/**
 * Issue #27 item 7: a client's `x-request-id` becomes the request id only when it is short and
 * plain (at most 64 of `[A-Za-z0-9._-]`); anything else gets a fresh id, and the client's value is
 * logged beside it as `clientRequestId`, cut to 64 characters.
 */
const lines: Record<string, unknown>[] = [];
const capture = new Writable({
  write(chunk, _encoding, done) {
    lines.push(JSON.parse(String(chunk)));
    done();
  },
});
const it = stackTest({ logger: pino({ level: 'info' }, capture), env: { NODE_ENV: 'production' } });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function failingUpload(stack: TestStack, requestId: string) {
  // Without its spool folder the gateway cannot store an upload: an internal error, logged.
  rmSync(join(stack.dataDir, 'spool'), { recursive: true, force: true });
  const answer = await uploadOperation(
    stack.url,
    GENERATE_INPUT,
    { input: { image: { file: null }, background: { prompt: 'x' } } },
    { variablePath: 'variables.input.image.file', bytes: await transparentPng(320, 320) },
    { 'apollo-require-preflight': 'true', 'x-request-id': requestId },
  );
  const id = answer.body.errors?.[0]?.extensions?.requestId as string;
  const logged = await eventually(async () =>
    lines.find((line) => (line.level as number) >= 50 && line.requestId === id),
  );
  return { id, logged };
}

describe('client request ids', () => {
  it('keeps a short plain id as the request id', async ({ stack }) => {
    const { id, logged } = await failingUpload(stack, 'client-id.42_x');
    expect(id).toBe('client-id.42_x');
    expect(logged.clientRequestId).toBeUndefined();
  });

  it('replaces a long or unusual id with a fresh one, and logs the client’s beside it, cut short', async ({
    stack,
  }) => {
    for (const sent of ['a'.repeat(200), 'trace:1;user=admin', 'with spaces and "quotes"']) {
      const { id, logged } = await failingUpload(stack, sent);
      expect(id).toMatch(UUID);
      expect(logged.requestId).toBe(id);
      expect(logged.clientRequestId).toBe(sent.slice(0, 64));
    }
  });

  it('answers the fresh id in the x-request-id header', async ({ stack }) => {
    const response = await fetch(`${stack.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'x'.repeat(65) },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    await response.arrayBuffer();
    expect(response.headers.get('x-request-id')).toMatch(UUID);
  });
});
