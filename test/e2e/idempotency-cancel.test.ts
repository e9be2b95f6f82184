import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { transparentPng } from '../support/fixtures.js';
import { eventually, type TestStack } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import {
  CANCEL,
  generate,
  generateTask,
  getTask,
  settled,
  subscribersReady,
  type TaskView,
  watch,
} from '../support/task-ops.js';

/** Issue #4: idempotent replays, cancellation and deadlines, against a real gateway and engine. */

function spoolFiles(stack: TestStack): string[] {
  const dir = join(stack.dataDir, 'spool');
  return existsSync(dir) ? readdirSync(dir) : [];
}

// A fresh gateway per test (the tests count what reached the engine), with each test's settings.
const it = stackTest({ engine: { durationMs: 300 } }, 'test');
// 0.5 QPS: one call every two seconds, so tasks wait in the gateway's queue.
const itQueued = stackTest({ engine: { durationMs: 300 }, env: { PICWISH_QPS: '0.5' } }, 'test');
const itLongTasks = stackTest({ engine: { durationMs: 4_000 } }, 'test');

async function cancel(stack: TestStack, id: string): Promise<TaskView | null> {
  const answer = await stack.gql<{ cancelBackgroundTask: TaskView | null }>(CANCEL, { id });
  if (answer.body.errors) throw new Error(JSON.stringify(answer.body.errors));
  return answer.body.data?.cancelBackgroundTask ?? null;
}

describe('idempotency keys', () => {
  it('replays with the same key and the same input return the same task and create nothing more', async ({
    stack: s,
  }) => {
    const png = await transparentPng(400, 300);
    // Two at once: the second must not slip past the first.
    const [a, b] = await Promise.all([
      generateTask(s, { png, key: 'order-42' }),
      generateTask(s, { png, key: 'order-42' }),
    ]);
    expect(b.id).toBe(a.id);
    const done = await settled(s, a.id);
    expect(done.state).toBe('SUCCEEDED');
    // After it finished, too: the same bytes under another file name are the same input.
    const replay = await generateTask(s, { png: Buffer.from(png), key: 'order-42' });
    expect(replay.id).toBe(a.id);
    expect(replay.state).toBe('SUCCEEDED');
    expect(s.engine.stats().creates).toBe(1);
    // The replays' uploads were not kept.
    expect(spoolFiles(s)).toEqual([]);
  });

  it('refuses the same key with another input as BAD_USER_INPUT / IDEMPOTENCY_KEY_REUSED', async ({
    stack: s,
  }) => {
    const png = await transparentPng(400, 300);
    const first = await generateTask(s, { png, key: 'k-1', prompt: 'a beach' });
    for (const other of [
      { png, key: 'k-1', prompt: 'a forest' },
      { png: await transparentPng(400, 320), key: 'k-1', prompt: 'a beach' },
      { png, key: 'k-1', prompt: 'a beach', batch: 1 },
    ]) {
      const answer = await generate(s, other);
      expect(answer.body.data?.generateBackground ?? null).toBeNull();
      const error = answer.body.errors?.[0];
      expect(error?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(error?.extensions?.reason).toBe('IDEMPOTENCY_KEY_REUSED');
    }
    // Another key with other input is simply another task.
    const second = await generateTask(s, { png, key: 'k-2', prompt: 'a forest' });
    expect(second.id).not.toBe(first.id);
    await Promise.all([settled(s, first.id), settled(s, second.id)]);
    expect(s.engine.stats().creates).toBe(2);
  });
});

describe('cancellation', () => {
  itQueued(
    'never submits a cancelled QUEUED task; its subscribers get CANCELLED and the stream completes',
    async ({ stack: s }) => {
      // At 0.5 QPS, most of the 6 tasks wait in the gateway's queue.
      const png = await transparentPng(400, 300);
      const tasks: TaskView[] = [];
      for (let i = 0; i < 6; i += 1) tasks.push(await generateTask(s, { png, prompt: `queued ${i}` }));
      const doomed = tasks.slice(3);
      const streams = doomed.map((task) => watch(s, task.id));
      await subscribersReady(s, doomed.length);
      for (const task of doomed) {
        const cancelled = await cancel(s, task.id);
        expect(cancelled?.state).toBe('CANCELLED');
        expect(cancelled?.upstreamTaskId).toBeNull();
        expect(cancelled?.queuePosition).toBeNull();
      }
      for (const history of await Promise.all(streams)) {
        expect(history.at(-1)?.state).toBe('CANCELLED');
        expect(history.filter((t) => t.state === 'CANCELLED')).toHaveLength(1);
      }
      const kept = await Promise.all(tasks.slice(0, 3).map((task) => settled(s, task.id, 90_000)));
      expect(kept.map((t) => t.state)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
      expect(s.engine.stats().creates).toBe(3);
      for (const task of doomed) expect((await getTask(s, task.id))?.state).toBe('CANCELLED');
      expect(spoolFiles(s)).toEqual([]);
    },
    120_000,
  );

  itLongTasks(
    'stops polling a cancelled PROCESSING task and keeps none of its results',
    async ({ stack: s }) => {
      const created = await generateTask(s);
      const stream = watch(s, created.id);
      const running = await eventually(async () => {
        const t = await getTask(s, created.id);
        return t?.upstreamTaskId && s.engine.stats().pollsByTask[t.upstreamTaskId] ? t : undefined;
      });
      const cancelled = await cancel(s, created.id);
      expect(cancelled?.state).toBe('CANCELLED');
      const history = await stream;
      expect(history.at(-1)?.state).toBe('CANCELLED');
      const pollsAtCancel = s.engine.stats().pollsByTask[running.upstreamTaskId as string] ?? 0;
      // Well past the engine's finish: a live poller would have polled and fetched by now.
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      const stats = s.engine.stats();
      // At most one poll that was already on the wire when the cancel landed.
      expect(stats.pollsByTask[running.upstreamTaskId as string] ?? 0).toBeLessThanOrEqual(pollsAtCancel + 1);
      expect(stats.resultFetches).toEqual({});
      const after = await getTask(s, created.id);
      expect(after?.state).toBe('CANCELLED');
      expect(after?.images).toEqual([]);
      expect(existsSync(join(s.dataDir, 'blobs', 'results', created.id))).toBe(false);
    },
    60_000,
  );

  it('returns a finished task unchanged when asked to cancel it', async ({ stack: s }) => {
    const done = await settled(s, (await generateTask(s)).id);
    expect(done.state).toBe('SUCCEEDED');
    const answer = await cancel(s, done.id);
    expect(answer?.state).toBe('SUCCEEDED');
    expect(answer?.images.map((i) => i.bytes)).toEqual(done.images.map((i) => i.bytes));
    expect((await getTask(s, done.id))?.state).toBe('SUCCEEDED');
    expect(await cancel(s, '00000000-0000-4000-8000-000000000000')).toBeNull();
  });
});

describe('deadlines', () => {
  itQueued(
    'fails a task not started within deadlineSeconds with DEADLINE_EXCEEDED, without submitting it',
    async ({ stack: s }) => {
      const png = await transparentPng(400, 300);
      const ahead: TaskView[] = [];
      for (let i = 0; i < 4; i += 1) ahead.push(await generateTask(s, { png, prompt: `ahead ${i}` }));
      const hurried = await generateTask(s, { png, prompt: 'hurried', deadline: 2 });
      const patient = await generateTask(s, { png, prompt: 'patient', deadline: 600 });
      const stream = watch(s, hurried.id);
      const failed = await settled(s, hurried.id, 30_000);
      expect(failed.state).toBe('FAILED');
      expect(failed.error?.code).toBe('DEADLINE_EXCEEDED');
      expect(failed.upstreamTaskId).toBeNull();
      expect((await stream).at(-1)?.state).toBe('FAILED');
      // It failed when its deadline ran out, not when its turn in the queue came.
      expect(s.engine.stats().creates).toBeLessThan(4);
      const rest = await Promise.all([...ahead, patient].map((task) => settled(s, task.id, 120_000)));
      expect(rest.every((t) => t.state === 'SUCCEEDED')).toBe(true);
      expect(s.engine.stats().creates).toBe(5);
      expect(spoolFiles(s)).toEqual([]);
    },
    150_000,
  );
});
