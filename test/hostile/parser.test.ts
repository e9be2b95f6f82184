import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect } from 'vitest';
import { MAX_JSON_BODY_BYTES } from '../../src/http/request-body.js';
import type { TestStack } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';

/** Every log line the gateway writes, to check that hostile input logs no stack trace. */
const lines: string[] = [];
const capture = new Writable({
  write(chunk, _encoding, done) {
    lines.push(String(chunk));
    done();
  },
});

const it = stackTest({ logger: pino({ level: 'info' }, capture) });

async function post(
  stack: TestStack,
  body: string,
): Promise<{ status: number; json: { errors?: { extensions?: { code?: string } }[] } }> {
  const response = await fetch(`${stack.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body,
  });
  return { status: response.status, json: (await response.json()) as never };
}

describe('hostile input to the parser', () => {
  // `for`, not `each`: only `for` hands the test its context, and with it the `stack` fixture.
  it.for<[string, (n: number) => string]>([
    ['a list literal', (n: number) => `{ backgroundTask(id: ${'['.repeat(n)}${']'.repeat(n)}) { id } }`],
    [
      'an object literal',
      (n: number) => `{ backgroundTask(id: ${'{a:'.repeat(n)}1${'}'.repeat(n)}) { id } }`,
    ],
    ['a selection set', (n: number) => `${'{ a '.repeat(n)}${'}'.repeat(n)}`],
  ])(
    'answers %s nested 3000 deep with 400 GRAPHQL_PARSE_FAILED, logging nothing',
    async ([_name, build], { stack }) => {
      lines.length = 0;
      const { status, json } = await post(stack, JSON.stringify({ query: build(3000) }));
      expect(status).toBe(400);
      expect(json.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
      expect(lines.filter((line) => line.includes('"level":50'))).toEqual([]);
    },
  );

  it('answers a deep document over GET and on /graphql/stream the same way', async ({ stack }) => {
    // 1000 deep: 3000 would not fit in a request line once escaped (431 from Node, also fine).
    const query = `{ backgroundTask(id: ${'['.repeat(1000)}${']'.repeat(1000)}) { id } }`;
    const viaGet = await fetch(`${stack.url}/graphql?query=${encodeURIComponent(query)}`, {
      headers: { accept: 'application/graphql-response+json' },
    });
    expect(viaGet.status).toBe(400);
    expect(await viaGet.text()).toContain('GRAPHQL_PARSE_FAILED');
    const viaStream = await fetch(`${stack.url}/graphql/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query }),
    });
    expect(viaStream.status).toBeGreaterThanOrEqual(400);
    expect(viaStream.status).toBeLessThan(500);
    expect(lines.filter((line) => line.includes('"level":50'))).toEqual([]);
  });

  it('answers variables nested 100 000 deep in JSON as a client error, not a crash', async ({ stack }) => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const { status } = await post(
      stack,
      `{"query":"query($id: ID!) { backgroundTask(id: $id) { id } }","variables":{"id":${deep}}}`,
    );
    expect(status).toBe(400);
    expect(lines.filter((line) => line.includes('"level":50'))).toEqual([]);
  });

  it('still parses a list literal nested to a legitimate depth', async ({ stack }) => {
    const { status, json } = await post(
      stack,
      JSON.stringify({ query: `{ backgroundTask(id: [["x"]]) { id } }` }),
    );
    expect(status).toBe(400);
    expect(json.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('a chunked JSON body over the limit', () => {
  it('is answered 413 PAYLOAD_TOO_LARGE and read by the client, with nothing logged as an error', async ({
    stack,
  }) => {
    lines.length = 0;
    const big = JSON.stringify({
      query: '{ __typename }',
      variables: { pad: 'x'.repeat(2 * MAX_JSON_BODY_BYTES) },
    });
    const bytes = new TextEncoder().encode(big);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 64 * 1024)
          controller.enqueue(bytes.subarray(at, at + 64 * 1024));
        controller.close();
      },
    });
    const response = await fetch(`${stack.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
    const answer = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(answer.errors[0]?.extensions.code).toBe('PAYLOAD_TOO_LARGE');
    expect(lines.filter((line) => line.includes('"level":50'))).toEqual([]);
  });
});
