import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchImages, sendBatch } from '../support/batch-ops.js';
import { type ClusterRig, type GatewayProcess, startClusterRig } from '../support/cluster.js';
import { eachSseEvent } from '../support/harness.js';
import { CANCEL, DELETE, GET_TASK } from '../support/task-ops.js';

/**
 * Issue #27 item 8: a task deleted on one instance is forgotten by the others — the finished-task
 * answer they cached and the batch feed they serve — within a second, because the PostgreSQL event
 * target carries `task-removed` like every other topic.
 */
let rig: ClusterRig;

beforeAll(async () => {
  // Tasks run for a minute, so the batch stays open while one of its tasks is cancelled and deleted.
  rig = await startClusterRig({
    name: 'task-removal',
    engine: { durationMs: 60_000 },
    env: { PICWISH_QPS: '20' },
  });
  await Promise.all([rig.start('a'), rig.start('b')]);
}, 120_000);

afterAll(() => rig?.close(), 60_000);

async function graphql(gateway: GatewayProcess, query: string, variables: Record<string, unknown>) {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
}

/** What `wait` resolves to, or a rejection naming `what` once `ms` have passed. */
function within<T>(ms: number, what: string, wait: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([wait, late]).finally(() => clearTimeout(timer));
}

describe('deleting a task on one instance of a PostgreSQL cluster', () => {
  it('drops it from the other instance’s finished-task answers and batch feed within a second', async () => {
    const [a, b] = rig.gateways as [GatewayProcess, GatewayProcess];
    const { good } = await batchImages();
    const sent = await sendBatch(a, [{ file: good }, { file: good }]);
    expect(sent.errors).toBeUndefined();
    const batchId = sent.data?.generateBackgrounds.batch.id as string;
    const [first] = sent.data?.generateBackgrounds.results.map((r) => r.task?.id as string) ?? [];
    const cancelled = await graphql(a, CANCEL, { id: first });
    expect(cancelled.errors).toBeUndefined();

    // B answers the finished (cancelled) task twice: the second answer comes from its cache.
    for (let read = 0; read < 2; read += 1) {
      const answer = await graphql(b, GET_TASK, { id: first });
      expect(answer.data?.backgroundTask).toMatchObject({ state: 'CANCELLED' });
    }

    // B follows the batch, still open: its other task runs.
    const controller = new AbortController();
    const stream = await fetch(`${b.url}/graphql`, {
      method: 'POST',
      signal: controller.signal,
      headers: { accept: 'text/event-stream', 'content-type': 'application/json' },
      body: JSON.stringify({
        query:
          'subscription($id: ID!) { backgroundBatchUpdated(id: $id) { done counts { cancelled deleted } tasks { id } } }',
        variables: { id: batchId },
      }),
    });
    type View = { done: boolean; counts: { cancelled: number; deleted: number }; tasks: { id: string }[] };
    const views: View[] = [];
    const waiting: { test: (view: View) => boolean; resolve: (view: View) => void }[] = [];
    const reading = eachSseEvent(stream, (event, data) => {
      if (event !== 'next' || !data) return;
      const view = (JSON.parse(data) as { data: { backgroundBatchUpdated: View } }).data
        .backgroundBatchUpdated;
      views.push(view);
      for (const each of waiting.filter((w) => w.test(view))) each.resolve(view);
    }).catch(() => undefined);
    const view = (test: (view: View) => boolean) =>
      new Promise<View>((resolve) => {
        const seen = views.find(test);
        if (seen) resolve(seen);
        else waiting.push({ test, resolve });
      });
    const opened = await within(
      10_000,
      'the first batch view',
      view(() => true),
    );
    expect(opened.counts).toEqual({ cancelled: 1, deleted: 0 });

    const deletedAt = Date.now();
    const deleted = await graphql(a, DELETE, { id: first });
    expect(deleted.data?.deleteBackgroundTask).toBe(true);
    const after = await within(
      1_000,
      'the batch feed on the other instance dropping the task',
      view((each) => each.counts.deleted === 1),
    );
    expect(after.tasks.map((task) => task.id)).not.toContain(first);
    const read = await graphql(b, GET_TASK, { id: first });
    expect(read.data?.backgroundTask).toBeNull();
    expect(Date.now() - deletedAt).toBeLessThan(1_000);
    controller.abort();
    await reading;
  });
});
