import { getIntrospectionQuery } from 'graphql';
import { describe, expect } from 'vitest';
import { MAX_OPERATION_LABELS, OPERATION_LIMITS } from '../../src/graphql/yoga.js';
import { MAX_JSON_BODY_BYTES } from '../../src/http/request-body.js';
import type { GraphQLErrorShape, TestStack } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';

/** Nests `ofType` under an introspection `__type` so the depth is exactly `depth`. */
function typeQueryOfDepth(depth: number): string {
  // __type(1) > fields(2) > type(3) > ofType(4..depth-1) > name(depth)
  const ofTypes = depth - 4;
  return `{ __type(name: "Query") { fields { type { ${'ofType { '.repeat(ofTypes)}name${' }'.repeat(ofTypes)} } } } }`;
}

const TASK_FIELDS = `fragment Everything on BackgroundTask {
  id upstreamTaskId state upstreamState stateDetail progress queuePosition estimatedStartAt prompt
  sceneType negativePrompt batchSize createdAt processedAt completedAt timeElapsedMs
  images { url width height contentType bytes expiresAt } error { code message }
}`;

const it = stackTest({});

/** POSTs `body` (a JSON value, or raw text) to /graphql and returns the status and parsed answer. */
async function post(
  stack: TestStack,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: { data?: unknown; errors?: GraphQLErrorShape[] } & unknown[] }> {
  const response = await fetch(`${stack.url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

describe('operation limits', () => {
  const refusal = (body: { errors?: GraphQLErrorShape[] }) =>
    body.errors?.map((e) => e.message).join(' | ') ?? '';
  const codes = (body: { errors?: GraphQLErrorShape[] }) => [
    ...new Set(body.errors?.map((e) => e.extensions?.code)),
  ];

  it('runs a full introspection query (what GraphiQL sends) despite the depth limit', async ({ stack }) => {
    const { status, body } = await post(stack, { query: getIntrospectionQuery({ descriptions: true }) });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect((body.data as { __schema: { types: unknown[] } }).__schema.types.length).toBeGreaterThan(10);
  });

  it(`refuses an operation nested deeper than ${OPERATION_LIMITS.maxDepth} levels`, async ({ stack }) => {
    const atLimit = await post(stack, { query: typeQueryOfDepth(OPERATION_LIMITS.maxDepth) });
    expect(atLimit.body.errors).toBeUndefined();
    const over = await post(stack, { query: typeQueryOfDepth(OPERATION_LIMITS.maxDepth + 2) });
    expect(over.body.data).toBeUndefined();
    expect(refusal(over.body)).toMatch(/depth limit of 8 exceeded/i);
    expect(codes(over.body)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it(`refuses more than ${OPERATION_LIMITS.maxAliases} aliases (an alias flood)`, async ({ stack }) => {
    const aliases = (n: number) =>
      `{ ${Array.from({ length: n }, (_, i) => `s${i}: sceneTypes { id }`).join(' ')} }`;
    expect((await post(stack, { query: aliases(OPERATION_LIMITS.maxAliases) })).body.errors).toBeUndefined();
    const flood = await post(stack, { query: aliases(200) });
    expect(flood.body.data).toBeUndefined();
    expect(refusal(flood.body)).toMatch(/aliases limit of 15 exceeded/i);
    expect(codes(flood.body)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it(`refuses a document of more than ${OPERATION_LIMITS.maxTokens} tokens before parsing it all`, async ({
    stack,
  }) => {
    const over = await post(stack, { query: `{ ${'__typename '.repeat(OPERATION_LIMITS.maxTokens + 1)}}` });
    expect(over.body.data).toBeUndefined();
    expect(refusal(over.body)).toMatch(/token limit of 4000 exceeded/i);
    expect(codes(over.body)).toEqual(['GRAPHQL_PARSE_FAILED']);
  });

  it(`refuses more than ${OPERATION_LIMITS.maxDirectives} directives`, async ({ stack }) => {
    const over = await post(stack, {
      query: `{ __typename ${'@skip(if: false) '.repeat(OPERATION_LIMITS.maxDirectives + 1)}}`,
    });
    expect(over.body.data).toBeUndefined();
    expect(refusal(over.body)).toMatch(/directives limit of 20 exceeded/i);
    expect(codes(over.body)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it('accepts the most expensive legitimate operation: a page of 100 tasks with every field', async ({
    stack,
  }) => {
    const query = `{ backgroundTasks(first: 100) { edges { cursor node { ...Everything } } pageInfo { hasNextPage endCursor } } } ${TASK_FIELDS}`;
    const { body } = await post(stack, { query });
    expect(body.errors).toBeUndefined();
  });

  it(`refuses an operation whose cost is over ${OPERATION_LIMITS.maxCost} (fragment spread flood)`, async ({
    stack,
  }) => {
    const over = await post(stack, {
      query: `{ backgroundTasks(first: 100) { edges { node { ${'...Everything '.repeat(10)}} } } } ${TASK_FIELDS}`,
    });
    expect(over.body.data).toBeUndefined();
    expect(refusal(over.body)).toMatch(new RegExp(`cost limit of ${OPERATION_LIMITS.maxCost} exceeded`, 'i'));
    expect(codes(over.body)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it(`answers a batch of up to ${OPERATION_LIMITS.maxBatch} operations and refuses a bigger one`, async ({
    stack,
  }) => {
    const batch = (n: number) => Array.from({ length: n }, () => ({ query: '{ __typename }' }));
    const ok = await post(stack, batch(OPERATION_LIMITS.maxBatch));
    expect(ok.status).toBe(200);
    expect(ok.body).toHaveLength(OPERATION_LIMITS.maxBatch);
    const flood = await post(stack, batch(100));
    expect(flood.status).toBeGreaterThanOrEqual(400);
    expect(refusal(flood.body)).toMatch(/batching is limited to 10/i);
  });

  it('keeps /metrics bounded when clients invent endless operation names', async ({ stack }) => {
    for (let i = 0; i < MAX_OPERATION_LABELS + 50; i += 10) {
      await Promise.all(
        Array.from({ length: 10 }, (_, j) => post(stack, { query: `query Invented${i + j} { __typename }` })),
      );
    }
    const metrics = await (await fetch(`${stack.url}/metrics`)).text();
    const names = new Set(
      [...metrics.matchAll(/^graphql_operations_total\{[^}]*operation="([^"]*)"/gm)].map((m) => m[1]),
    );
    expect(names.size).toBeLessThanOrEqual(MAX_OPERATION_LABELS + 2);
    expect(names.has('other')).toBe(true);
  });

  it(`refuses a JSON body over ${MAX_JSON_BODY_BYTES} bytes with 413, with or without Content-Length`, async ({
    stack,
  }) => {
    const big = JSON.stringify({
      query: '{ __typename }',
      variables: { pad: 'x'.repeat(MAX_JSON_BODY_BYTES) },
    });
    const sized = await fetch(`${stack.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    expect(sized.status).toBe(413);
    expect(((await sized.json()) as { errors: GraphQLErrorShape[] }).errors[0]?.extensions?.code).toBe(
      'PAYLOAD_TOO_LARGE',
    );

    // Without a length the gateway reads up to the limit, answers, and reads on (discarding, up to
    // refusal.ts's DISCARD_LIMIT_BYTES) so that a client still writing gets the answer.
    const chunked = await sendChunked(`${stack.url}/graphql`, big + ' '.repeat(MAX_JSON_BODY_BYTES));
    expect(chunked.status).toBe(413);
    expect(chunked.text).toContain('PAYLOAD_TOO_LARGE');
  });

  it('still answers a small chunked JSON body (no Content-Length) normally', async ({ stack }) => {
    const small = await sendChunked(`${stack.url}/graphql`, JSON.stringify({ query: '{ __typename }' }));
    expect(small.status).toBe(200);
    expect(JSON.parse(small.text)).toEqual({ data: { __typename: 'Query' } });
  });
});

/** POSTs `body` as a stream, so it goes out chunked without a Content-Length. */
async function sendChunked(url: string, body: string): Promise<{ status: number; text: string }> {
  const bytes = new TextEncoder().encode(body);
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let at = 0; at < bytes.length; at += 64 * 1024)
        controller.enqueue(bytes.subarray(at, at + 64 * 1024));
      controller.close();
    },
  });
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: stream,
    duplex: 'half',
  } as RequestInit);
  return { status: response.status, text: await response.text() };
}
