import { createClient } from 'graphql-sse';
import { describe, expect } from 'vitest';
import { readSse, type TestStack } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';

/**
 * Subscribing to a task that does not exist ends the stream with one error whose code is
 * NOT_FOUND, on every subscription transport, instead of hanging or failing at the HTTP level.
 */

const FOLLOW = 'subscription Follow($id: ID!) { backgroundTaskUpdated(id: $id) { id state } }';
const MISSING = '00000000-0000-4000-8000-000000000000';

const it = stackTest({ engine: { durationMs: 600 } });

interface Outcome {
  results: { errors?: { extensions?: { code?: string } }[]; data?: unknown }[];
  error: unknown;
  completed: boolean;
}

/** Runs one subscription through graphql-sse's client and collects what it saw. */
function subscribeWithGraphqlSse(stack: TestStack, singleConnection: boolean): Promise<Outcome> {
  const client = createClient({
    url: `${stack.url}/graphql/stream`,
    fetchFn: fetch,
    singleConnection,
    retryAttempts: 0,
  });
  const outcome: Outcome = { results: [], error: null, completed: false };
  return new Promise<Outcome>((resolve) => {
    const timer = setTimeout(() => {
      client.dispose();
      resolve(outcome);
    }, 15_000);
    const finish = () => {
      clearTimeout(timer);
      client.dispose();
      resolve(outcome);
    };
    client.subscribe(
      { query: FOLLOW, variables: { id: MISSING } },
      {
        next: (result) => outcome.results.push(result as Outcome['results'][number]),
        error: (error) => {
          outcome.error = error;
          finish();
        },
        complete: () => {
          outcome.completed = true;
          finish();
        },
      },
    );
  });
}

describe('subscribing to a task that does not exist', () => {
  it('ends the /graphql SSE stream with one NOT_FOUND error, then complete', async ({ stack }) => {
    const { status, events } = await readSse(`${stack.url}/graphql`, {
      body: JSON.stringify({ query: FOLLOW, variables: { id: MISSING } }),
    });
    expect(status).toBe(200);
    const nexts = events.filter((event) => event.event === 'next');
    expect(nexts).toHaveLength(1);
    const payload = nexts[0]?.data as Outcome['results'][number];
    expect(payload.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(events.at(-1)?.event).toBe('complete');
  });

  it('ends a graphql-sse stream at /graphql/stream (distinct connections) with NOT_FOUND', async ({
    stack,
  }) => {
    const outcome = await subscribeWithGraphqlSse(stack, false);
    expect(outcome.error).toBeNull();
    expect(outcome.results).toHaveLength(1);
    expect(outcome.results[0]?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(outcome.completed).toBe(true);
  });

  it('ends a graphql-sse stream at /graphql/stream (single connection) with NOT_FOUND', async ({ stack }) => {
    const outcome = await subscribeWithGraphqlSse(stack, true);
    expect(outcome.error).toBeNull();
    expect(outcome.results).toHaveLength(1);
    expect(outcome.results[0]?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(outcome.completed).toBe(true);
  });

  it('answers an id that is not even a task id shape with NOT_FOUND and no data', async ({ stack }) => {
    const { events } = await readSse(`${stack.url}/graphql`, {
      body: JSON.stringify({ query: FOLLOW, variables: { id: 'not-a-uuid-at-all' } }),
    });
    const payload = events.find((event) => event.event === 'next')?.data as Outcome['results'][number];
    expect(payload.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(payload.data ?? null).toBeNull();
  });
});
