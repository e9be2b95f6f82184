import { complexityFromQuery } from '@pothos/plugin-complexity';
import { describe, expect } from 'vitest';
import { schema } from '../../src/graphql/schema/index.js';
import { batchImages, sendBatch } from '../support/batch-ops.js';
import type { TestStack } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';

/**
 * Issue #27 item 1: query amplification. `nodes(ids:)` naming one batch a hundred times, selecting
 * tasks → images → batch → tasks → images, ten such operations in one JSON array: a 77 KB request
 * answered 413 MB in 29 s. Lists now multiply the cost of what they select (by the size of
 * `ids`, `first`, or their most), each operation and each HTTP request has a cost limit, and an
 * operation over it is refused before it runs.
 */
const AMPLIFY = `query Amplify($ids: [ID!]!) { nodes(ids: $ids) { ... on BackgroundBatch {
  tasks { id state images { url width } batch { tasks { id state images { url width } } } } } } }`;
const PAGE = `query Page { backgroundTasks(first: 100) { edges { node {
  id state progress images { url width height contentType } } } } }`;

/** `batchId`: a batch of two tasks, made once per file, for the amplification query to name. */
const it = stackTest({ engine: { durationMs: 100 } }).extend<{ batchId: string }>({
  batchId: [
    async ({ stack }, use) => {
      const { good } = await batchImages();
      const sent = await sendBatch(stack, [{ file: good }, { file: good }]);
      await use(sent.data?.generateBackgrounds.batch.id as string);
    },
    { scope: 'file' },
  ],
});

async function post(stack: TestStack, body: unknown) {
  const response = await fetch(`${stack.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, bytes: text.length, body: JSON.parse(text) };
}

type Answer = { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };

describe('query amplification', () => {
  it('prices the amplification query by its lists, far above the limit', ({ batchId }) => {
    const { complexity } = complexityFromQuery(AMPLIFY, {
      schema,
      variables: { ids: Array.from({ length: 100 }, () => batchId) },
    });
    console.info(`amplification query cost: ${complexity}`);
    expect(complexity).toBeGreaterThan(1_000_000);
  });

  it('refuses ten amplification operations in one request before running any, with COST_LIMIT_EXCEEDED', async ({
    stack,
    batchId,
  }) => {
    const ids = Array.from({ length: 100 }, () => batchId);
    const started = Date.now();
    const answer = await post(
      stack,
      Array.from({ length: 10 }, () => ({ query: AMPLIFY, variables: { ids } })),
    );
    const took = Date.now() - started;
    console.info(`ten amplification operations: ${answer.bytes} bytes answered in ${took} ms`);
    const answers = answer.body as Answer[];
    expect(answers).toHaveLength(10);
    for (const each of answers) {
      expect(each.data).toBeUndefined();
      expect(each.errors?.[0]?.extensions).toMatchObject({ code: 'COST_LIMIT_EXCEEDED', maxCost: 10_000 });
    }
    expect(answer.bytes).toBeLessThan(20_000);
  });

  it('adds up the operations of one batched request: those past the request limit are refused', async ({
    stack,
  }) => {
    const { complexity } = complexityFromQuery(PAGE, { schema });
    expect(complexity).toBeLessThanOrEqual(10_000);
    const fit = Math.floor(20_000 / complexity);
    expect(fit).toBeLessThan(10);
    const answers = (
      await post(
        stack,
        Array.from({ length: 10 }, () => ({ query: PAGE })),
      )
    ).body as Answer[];
    const refused = answers.filter((each) => each.errors?.[0]?.extensions?.code === 'COST_LIMIT_EXCEEDED');
    expect(answers.length - refused.length).toBe(fit);
    expect(refused[0]?.errors?.[0]?.extensions).toMatchObject({ maxCost: 20_000 });
    // The same operation alone, in a request of its own, runs.
    expect(((await post(stack, { query: PAGE })).body as Answer).errors).toBeUndefined();
  });

  it('prices a repeated id in nodes each time it is named', ({ batchId }) => {
    const query = 'query($ids: [ID!]!) { nodes(ids: $ids) { id } }';
    const once = complexityFromQuery(query, { schema, variables: { ids: [batchId] } }).complexity;
    const thrice = complexityFromQuery(query, {
      schema,
      variables: { ids: [batchId, batchId, batchId] },
    }).complexity;
    expect(thrice - 1).toBe(3 * (once - 1));
  });
});
