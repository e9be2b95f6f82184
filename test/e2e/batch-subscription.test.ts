import { createClient } from 'graphql-sse';
import { describe, expect } from 'vitest';
import { batchImages, type Counts, sendBatch, twentyWithThreeBad } from '../support/batch-ops.js';
import { eventually, type TestStack } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import { bearer, type SseEvent, sseUntil, TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';

/** Issue #15 item 3: `backgroundBatchUpdated` streams count changes and ends when the batch is done. */

const FOLLOW_BATCH = `subscription FollowBatch($id: ID!) {
  backgroundBatchUpdated(id: $id) {
    id done
    counts { total accepted refused queued processing succeeded failed cancelled deleted }
  }
}`;

interface Update {
  id: string;
  done: boolean;
  counts: Counts;
}

/** Every update adds up: the accepted items' states plus the deleted make `accepted`, and so on. */
function expectConsistent(updates: Update[], batchId: string): void {
  expect(updates.length).toBeGreaterThanOrEqual(2);
  for (const { id, counts } of updates) {
    expect(id).toBe(batchId);
    expect(counts.accepted + counts.refused).toBe(counts.total);
    expect(
      counts.queued +
        counts.processing +
        counts.succeeded +
        counts.failed +
        counts.cancelled +
        counts.deleted,
    ).toBe(counts.accepted);
  }
  for (let i = 1; i < updates.length; i += 1) {
    expect(updates[i]?.counts.succeeded).toBeGreaterThanOrEqual(updates[i - 1]?.counts.succeeded ?? 0);
  }
  const last = updates.at(-1);
  expect(last?.done).toBe(true);
  expect(last?.counts).toMatchObject({ total: 20, accepted: 17, refused: 3, succeeded: 17 });
  expect(updates.slice(0, -1).every((update) => !update.done)).toBe(true);
}

function updatesOf(events: SseEvent[]): Update[] {
  return events
    .filter((event) => event.event === 'next')
    .map((event) => {
      const payload = event.data as { data?: { backgroundBatchUpdated: Update }; errors?: unknown };
      if (!payload.data) throw new Error(`subscription error: ${JSON.stringify(payload)}`);
      return payload.data.backgroundBatchUpdated;
    });
}

/** Follows the batch with the graphql-sse client on /graphql/stream until it completes. */
async function followWithGraphqlSse(
  stack: TestStack,
  id: string,
  singleConnection: boolean,
  onUpdate: () => void,
): Promise<Update[]> {
  const client = createClient({
    url: `${stack.url}/graphql/stream`,
    fetchFn: fetch,
    singleConnection,
    retryAttempts: 0,
  });
  const updates: Update[] = [];
  try {
    for await (const result of client.iterate({ query: FOLLOW_BATCH, variables: { id } })) {
      expect(result.errors).toBeUndefined();
      updates.push((result.data as { backgroundBatchUpdated: Update }).backgroundBatchUpdated);
      onUpdate();
    }
  } finally {
    client.dispose();
  }
  return updates;
}

async function activeSubscriptions(stack: TestStack): Promise<number> {
  const text = await stack.gateway.metrics.registry.getSingleMetricAsString('gateway_active_subscriptions');
  return Number(/gateway_active_subscriptions (\d+)/.exec(text)?.[1] ?? 0);
}

// One gateway per test, each with its own settings.
const itSlow = stackTest({ engine: { durationMs: 5_000 } }, 'test');
const itTwoTenants = stackTest(
  { engine: { durationMs: 1_000 }, env: { GATEWAY_API_KEYS: TWO_TENANT_KEYS } },
  'test',
);

describe('backgroundBatchUpdated', () => {
  itSlow(
    'streams the counts of a batch of 20 with 3 bad inputs to Yoga SSE and graphql-sse subscribers from one source, and ends each when all 17 are final',
    async ({ stack: s }) => {
      const answer = await sendBatch(s, twentyWithThreeBad(await batchImages()));
      const id = answer.data?.generateBackgrounds.batch.id as string;
      expect(id).toBeTruthy();

      const firstEvents = new Set<string>();
      const yogaStreams = Array.from({ length: 3 }, (_, n) =>
        sseUntil(
          `${s.url}/graphql`,
          { body: JSON.stringify({ query: FOLLOW_BATCH, variables: { id } }) },
          (events) => {
            if (events.length > 0) firstEvents.add(`yoga-${n}`);
            return events.some((event) => event.event === 'complete');
          },
          90_000,
        ),
      );
      const distinct = followWithGraphqlSse(s, id, false, () => firstEvents.add('distinct'));
      const single = followWithGraphqlSse(s, id, true, () => firstEvents.add('single'));

      // Five subscribers have their snapshot while the tasks run: the batch is still listened to
      // once per accepted task, not once per subscriber.
      await eventually(async () => (firstEvents.size === 5 ? true : undefined), 30_000, 50);
      expect(await activeSubscriptions(s)).toBe(17);

      for (const stream of await Promise.all(yogaStreams)) {
        expect(stream.status).toBe(200);
        expect(stream.events.at(-1)?.event).toBe('complete');
        expectConsistent(updatesOf(stream.events), id);
      }
      expectConsistent(await distinct, id);
      expectConsistent(await single, id);
      // The source stops listening once the batch is done.
      await eventually(async () => ((await activeSubscriptions(s)) === 0 ? true : undefined), 10_000, 50);
      expect(s.engine.stats().creates).toBe(17);
    },
  );

  itTwoTenants(
    'answers a subscription to another tenant’s batch with NOT_FOUND and completes',
    async ({ stack }) => {
      const { good } = await batchImages();
      const answer = await sendBatch(stack, [{ file: good }], { tenant: TENANTS.alpha });
      const id = answer.data?.generateBackgrounds.batch.id as string;
      const foreign = await sseUntil(
        `${stack.url}/graphql`,
        { headers: bearer(TENANTS.beta), body: JSON.stringify({ query: FOLLOW_BATCH, variables: { id } }) },
        (events) => events.some((event) => event.event === 'complete'),
      );
      const next = foreign.events.find((event) => event.event === 'next')?.data as {
        errors?: { extensions?: { code?: string } }[];
      };
      expect(next.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(foreign.events.at(-1)?.event).toBe('complete');
      const own = await sseUntil(
        `${stack.url}/graphql`,
        { headers: bearer(TENANTS.alpha), body: JSON.stringify({ query: FOLLOW_BATCH, variables: { id } }) },
        (events) => events.some((event) => event.event === 'complete'),
        30_000,
      );
      expect(updatesOf(own.events).at(-1)).toMatchObject({ done: true, counts: { succeeded: 1 } });
    },
  );
});
