import { buildSchema, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useCostLimit } from '../../../../src/graphql/plugins/use-cost-limit.js';
import { postOperation, servePlugins } from '../../../support/plugin-server.js';

/** useCostLimit on its own, over a plain schema (each field 1): per operation and per request. */
/** Costs 6 (six fields); `{ item { id child { id } } }` costs 4. */
const DEEP = '{ item { id child { id child { id } } } }';

let server: Awaited<ReturnType<typeof servePlugins>>;
beforeAll(async () => {
  server = await servePlugins([useCostLimit({ maxOperationCost: 5, maxRequestCost: 10 })], {
    batching: true,
  });
});
afterAll(() => server?.close());

describe('useCostLimit', () => {
  it('runs an operation within the limit and refuses one over it before it executes', async () => {
    expect((await postOperation(server.url, '{ item { id child { id } } }')).body.errors).toBeUndefined();
    const refused = await postOperation(server.url, DEEP);
    expect(refused.body.data).toBeUndefined();
    expect(refused.body.errors?.[0]?.extensions).toEqual({
      code: 'COST_LIMIT_EXCEEDED',
      cost: 6,
      maxCost: 5,
    });
    expect(refused.body.errors?.[0]?.message).toContain('costs 6, over the limit of 5 per operation');
  });

  it('adds up the operations of a batched request and refuses those past the request limit', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify(Array.from({ length: 3 }, () => ({ query: '{ item { id child { id } } }' }))),
    });
    const answers = (await response.json()) as { errors?: { extensions?: Record<string, unknown> }[] }[];
    // Each costs 4: two fit in the request's 10, the third does not.
    const refused = answers.filter(
      (answer) => answer.errors?.[0]?.extensions?.code === 'COST_LIMIT_EXCEEDED',
    );
    expect(answers).toHaveLength(3);
    expect(refused).toHaveLength(1);
    expect(refused[0]?.errors?.[0]?.extensions).toEqual({
      code: 'COST_LIMIT_EXCEEDED',
      cost: 12,
      maxCost: 10,
    });
  });
});

describe('useCostLimit and subscription updates', () => {
  it('holds each update of a subscription to the operation limit only, however many run under one request', () => {
    const schema = buildSchema('type Query { a: Int } type Subscription { tick: Int }');
    const plugin = useCostLimit({ maxOperationCost: 5, maxRequestCost: 3 }) as {
      onExecute: (payload: unknown) => void;
    };
    const request = {};
    let refused = 0;
    for (let update = 0; update < 10; update++) {
      plugin.onExecute({
        args: { schema, document: parse('subscription { tick }'), contextValue: { request } },
        setResultAndStopExecution: () => {
          refused += 1;
        },
      });
    }
    expect(refused).toBe(0);
  });
});
