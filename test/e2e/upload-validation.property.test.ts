import fc from 'fast-check';
import { beforeAll, describe, expect } from 'vitest';
import { GENERATE_INPUT, transparentPng } from '../support/fixtures.js';
import type { TestStack } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';

/**
 * Random and mutated bytes thrown at the multipart upload path of a real gateway: whatever
 * arrives, the gateway answers in time with a 4xx or a well-formed GraphQL result, never a 5xx,
 * never an INTERNAL_SERVER_ERROR, never a hang, and it stays healthy.
 */

const BOUNDARY = 'fuzzboundary7MA4YWxkTrZu0gW';
/** Well above what any answer needs, well below the test timeout: a hang fails the property. */
const ANSWER_WITHIN_MS = 10_000;

const it = stackTest({
  engine: { durationMs: 600 },
  env: { TENANT_RATE_LIMIT_PER_MINUTE: '100000', TENANT_MAX_ACTIVE_TASKS: '100000' },
});

let png: Buffer;
let validBody: Buffer;

beforeAll(async () => {
  png = await transparentPng(256, 256);
  validBody = multipart([
    {
      name: 'operations',
      value: JSON.stringify({
        query: GENERATE_INPUT,
        variables: { input: { image: { file: null }, background: { prompt: 'studio' }, batchSize: 1 } },
      }),
    },
    { name: 'map', value: JSON.stringify({ 0: ['variables.input.image.file'] }) },
    { name: '0', value: png, filename: 'foreground.png' },
  ]);
});

interface Part {
  name: string;
  value: string | Buffer;
  filename?: string;
}

function multipart(parts: Part[], boundary = BOUNDARY): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename ? `; filename="${part.filename}"` : ''}`;
    const type = part.filename ? '\r\nContent-Type: image/png' : '';
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}${type}\r\n\r\n`));
    chunks.push(typeof part.value === 'string' ? Buffer.from(part.value) : part.value);
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

interface GraphQLResult {
  data?: unknown;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** Posts a body as a multipart upload and checks the answer's shape; returns its status. */
async function postAndCheck(
  stack: TestStack,
  body: Uint8Array,
  contentType = `multipart/form-data; boundary=${BOUNDARY}`,
) {
  const response = await fetch(`${stack.url}/graphql`, {
    method: 'POST',
    body: new Uint8Array(body),
    headers: { 'content-type': contentType, 'apollo-require-preflight': 'true' },
    signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
  });
  const text = await response.text();
  expect(response.status, text).toBeLessThan(500);
  expect(response.status === 200 || (response.status >= 400 && response.status < 500), text).toBe(true);
  const parsed = JSON.parse(text) as GraphQLResult | GraphQLResult[];
  // A batch (an array of operations) is answered with an array of results, possibly empty.
  for (const result of Array.isArray(parsed) ? parsed : [parsed]) {
    expect('data' in result || Array.isArray(result.errors), text).toBe(true);
    for (const error of result.errors ?? []) {
      expect(error.message, text).toEqual(expect.any(String));
      expect(error.extensions?.code, text).not.toBe('INTERNAL_SERVER_ERROR');
    }
    if (result.errors === undefined) expect(result.data, text).toEqual(expect.any(Object));
  }
  return response.status;
}

type Mutation =
  | { kind: 'flip'; at: number; byte: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate'; at: number; length: number };

const position = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: position, byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: position }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: position,
    bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 512 }) }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    at: position,
    length: fc.integer({ min: 1, max: 512 }),
  }),
);

function mutate(body: Buffer, mutations: readonly Mutation[]): Buffer {
  let bytes = body;
  for (const m of mutations) {
    const at = Math.floor(m.at * bytes.length);
    switch (m.kind) {
      case 'flip': {
        bytes = Buffer.from(bytes);
        bytes[at] = m.byte;
        break;
      }
      case 'truncate':
        bytes = bytes.subarray(0, at);
        break;
      case 'insert':
        bytes = Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
        break;
      case 'delete':
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
        break;
      case 'duplicate':
        bytes = Buffer.concat([bytes.subarray(0, at + m.length), bytes.subarray(at)]);
        break;
    }
  }
  return bytes;
}

async function healthy(stack: TestStack): Promise<void> {
  const response = await fetch(`${stack.url}/healthz`, { signal: AbortSignal.timeout(ANSWER_WITHIN_MS) });
  expect(response.status).toBe(200);
}

describe('the multipart path under random input', () => {
  it('answers the unmutated request with a task, so the mutations start from something valid', async ({
    stack,
  }) => {
    expect(await postAndCheck(stack, validBody)).toBe(200);
  });

  it('answers random bytes under a multipart content type with a 4xx or a result, promptly', async ({
    stack,
  }) => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (bytes) => {
        await postAndCheck(stack, bytes);
      }),
      { numRuns: 30 },
    );
    await healthy(stack);
  });

  it('answers mutated multipart uploads with a 4xx or a result, promptly', async ({ stack }) => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
        await postAndCheck(stack, mutate(validBody, mutations));
      }),
      { numRuns: 40 },
    );
    await healthy(stack);
  });

  it('answers random operations and map fields with a 4xx or a result, promptly', async ({ stack }) => {
    const jsonish = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.json({ maxDepth: 3 }),
      fc.constantFrom('{}', '[]', 'null', '{"0":["variables"]}', '{"0":["variables.input.image.file"]}'),
    );
    await fc.assert(
      fc.asyncProperty(
        jsonish,
        jsonish,
        fc.uint8Array({ maxLength: 2048 }),
        fc.boolean(),
        async (operations, map, file, withPng) => {
          await postAndCheck(
            stack,
            multipart([
              { name: 'operations', value: operations },
              { name: 'map', value: map },
              {
                name: '0',
                value: withPng ? Buffer.concat([png, file]) : Buffer.from(file),
                filename: 'f.png',
              },
            ]),
          );
        },
      ),
      { numRuns: 30 },
    );
    await healthy(stack);
  });

  it('answers random and mutated JSON bodies with a 4xx or a result, promptly', async ({ stack }) => {
    const valid = Buffer.from(
      JSON.stringify({
        query: GENERATE_INPUT,
        variables: { input: { image: { url: 'https://example.com/p.png' }, background: { prompt: 'x' } } },
      }),
    );
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 2048 }),
      fc.array(mutation, { minLength: 1, maxLength: 3 }).map((mutations) => mutate(valid, mutations)),
      fc.json({ maxDepth: 4 }).map((text) => Buffer.from(text)),
    );
    await fc.assert(
      fc.asyncProperty(body, async (bytes) => {
        await postAndCheck(stack, bytes, 'application/json');
      }),
      { numRuns: 40 },
    );
    await healthy(stack);
  });

  it('answers multipart bodies with random boundaries and headers with a 4xx or a result, promptly', async ({
    stack,
  }) => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 0, maxLength: 80 }),
        fc.uint8Array({ maxLength: 1024 }),
        async (boundary, tail) => {
          const body = Buffer.concat([
            multipart([{ name: 'operations', value: '{}' }], boundary || 'x'),
            tail,
          ]);
          const header = `multipart/form-data; boundary=${JSON.stringify(boundary)}`;
          await postAndCheck(stack, body, header);
        },
      ),
      { numRuns: 20 },
    );
    await healthy(stack);
  });
});
