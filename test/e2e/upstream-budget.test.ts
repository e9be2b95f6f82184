import { describe, expect } from 'vitest';
import { transparentPng } from '../support/fixtures.js';
import { eventually } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import {
  generateTask,
  getTask,
  settled,
  subscribersReady,
  type TaskView,
  watch,
} from '../support/task-ops.js';

// A gateway per test ('test'): each reads the engine's counts of what it alone sent.
const it = stackTest({ engine: { qps: 2, durationMs: 500 }, env: { PICWISH_QPS: '2' } }, 'test');
const itSlowTasks = stackTest({ engine: { qps: 2, durationMs: 1_500 }, env: { PICWISH_QPS: '2' } }, 'test');
// No limit at the engine, so only the 429 the test asks for is answered.
const itUnlimited = stackTest({ engine: { qps: null, durationMs: 500 }, env: { PICWISH_QPS: '5' } }, 'test');
// One create every ~2 s: the fifth task still has at least two ahead of it even when each
// upload takes up to a second on a loaded machine.
const itSlowQueue = stackTest(
  { engine: { qps: null, durationMs: 300 }, env: { PICWISH_QPS: '0.5' } },
  'test',
);

/**
 * Issue #4: one PicWish budget for creates and polls. The engine enforces 2 QPS strictly (a
 * sliding one-second window, 429 beyond), the gateway is configured with the same 2 QPS: any
 * window the gateway overfills shows up as a 429 in the engine's stats.
 */
describe('upstream budget', () => {
  itSlowTasks(
    'drives 12 tasks with 3 subscribers each to SUCCEEDED within 2 QPS: zero 429s, one create and few polls per task',
    async ({ stack }) => {
      const png = await transparentPng(400, 300);
      const started = Date.now();
      const tasks = await Promise.all(
        Array.from({ length: 12 }, (_, i) => generateTask(stack, { png, prompt: `scene ${i}` })),
      );
      const streams = tasks.flatMap((task) => [
        watch(stack, task.id),
        watch(stack, task.id),
        watch(stack, task.id),
      ]);
      const histories = await Promise.all(streams);
      const finished = Date.now();

      for (const history of histories) {
        expect(history.at(-1)?.state).toBe('SUCCEEDED');
        expect(history.at(-1)?.images.length).toBe(2);
      }
      const stats = stack.engine.stats();
      expect(stats.rateLimited).toBe(0);
      expect(stats.creates).toBe(12);
      expect(stats.createAttempts).toBe(12);
      const upstreamIds = await Promise.all(
        tasks.map(async (task) => (await getTask(stack, task.id))?.upstreamTaskId),
      );
      const pollsPerTask = upstreamIds.map((id) => stats.pollsByTask[id ?? ''] ?? 0);
      expect(Math.min(...pollsPerTask)).toBeGreaterThanOrEqual(1);
      const totalPolls = pollsPerTask.reduce((a, b) => a + b, 0);
      // Lower bound: every task needs its create and at least one poll, at 2 calls per second.
      const lowerBoundMs = ((12 + 12) / 2) * 1000;
      const elapsed = finished - started;
      console.log(
        `budget: 12 tasks, polls per task ${(totalPolls / 12).toFixed(2)} (min ${Math.min(...pollsPerTask)}, max ${Math.max(...pollsPerTask)}), ` +
          `total ${(elapsed / 1000).toFixed(1)} s vs lower bound ${(lowerBoundMs / 1000).toFixed(1)} s (×${(elapsed / lowerBoundMs).toFixed(2)}), 429s ${stats.rateLimited}`,
      );
      // Generous: a loaded machine is slow, but polling must not swamp the budget.
      expect(totalPolls / 12).toBeLessThanOrEqual(4);
    },
    120_000,
  );

  it('sends creates in arrival order', async ({ stack }) => {
    const png = await transparentPng(400, 300);
    const created: TaskView[] = [];
    for (let i = 0; i < 6; i += 1) created.push(await generateTask(stack, { png, prompt: `order ${i}` }));
    const done = await Promise.all(created.map((task) => settled(stack, task.id)));
    expect(done.every((task) => task.state === 'SUCCEEDED')).toBe(true);
    const order = stack.engine.stats().creates_log.map((entry) => entry.taskId);
    expect(order).toEqual(done.map((task) => task.upstreamTaskId));
    expect(stack.engine.stats().rateLimited).toBe(0);
  }, 120_000);

  itUnlimited(
    'honours a 429 with Retry-After by pausing the whole budget and loses no task',
    async ({ stack }) => {
      stack.engine.faults.createFaults.push({ status: 429, retryAfterSeconds: 2 });
      const png = await transparentPng(400, 300);
      const first = await generateTask(stack, { png, prompt: 'first' });
      // The 429 was answered; until Retry-After passes, nothing else may be sent.
      await eventually(async () => (stack.engine.stats().createAttempts >= 1 ? true : undefined));
      const rateLimitedAt = Date.now();
      const second = await generateTask(stack, { png, prompt: 'second' });
      await eventually(async () => (stack.engine.stats().createAttempts >= 2 ? true : undefined), 20_000, 20);
      const resumedAt = Date.now();
      expect(resumedAt - rateLimitedAt).toBeGreaterThanOrEqual(1_500);
      const [a, b] = await Promise.all([settled(stack, first.id), settled(stack, second.id)]);
      expect(a.state).toBe('SUCCEEDED');
      expect(b.state).toBe('SUCCEEDED');
      expect(stack.engine.stats().creates).toBe(2);
      // Arrival order survives the retry: the rate-limited task still goes first.
      expect(stack.engine.stats().creates_log.map((c) => c.taskId)).toEqual([
        a.upstreamTaskId,
        b.upstreamTaskId,
      ]);
    },
    60_000,
  );

  it('shares the budget fairly: never-ending tasks keep being polled evenly and do not starve new work', async ({
    stack,
  }) => {
    const png = await transparentPng(400, 300);
    stack.engine.faults.acceptCreatesWithoutProcessing = true;
    const stuck: TaskView[] = [];
    for (let i = 0; i < 8; i += 1) stuck.push(await generateTask(stack, { png, prompt: `stuck ${i}` }));
    // Half of them watched: those must never starve either.
    const streams = stuck.slice(0, 4).map((task) => watch(stack, task.id));
    await subscribersReady(stack, 4);
    const upstreamIds = await eventually(async () => {
      const ids = await Promise.all(
        stuck.map(async (task) => (await getTask(stack, task.id))?.upstreamTaskId),
      );
      return ids.every(Boolean) ? (ids as string[]) : undefined;
    }, 30_000);
    stack.engine.faults.acceptCreatesWithoutProcessing = false;
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    // New work still gets through while eight tasks compete for polls.
    const fresh = await generateTask(stack, { png, prompt: 'fresh' });
    const done = await settled(stack, fresh.id, 30_000);
    expect(done.state).toBe('SUCCEEDED');
    const stats = stack.engine.stats();
    const polls = upstreamIds.map((id) => stats.pollsByTask[id] ?? 0);
    console.log(`fairness: polls per never-ending task ${polls.join(', ')}`);
    expect(Math.min(...polls)).toBeGreaterThanOrEqual(2);
    expect(Math.max(...polls)).toBeLessThanOrEqual(Math.min(...polls) * 3 + 2);
    expect(stats.rateLimited).toBe(0);
    for (const task of stuck)
      await stack.gql('mutation($id: ID!) { cancelBackgroundTask(id: $id) { id } }', { id: task.id });
    for (const history of await Promise.all(streams)) expect(history.at(-1)?.state).toBe('CANCELLED');
  }, 120_000);

  itSlowQueue(
    'counts queuePosition down in a subscription and drops it once the task is sent',
    async ({ stack }) => {
      const png = await transparentPng(400, 300);
      const tasks: TaskView[] = [];
      for (let i = 0; i < 5; i += 1) tasks.push(await generateTask(stack, { png, prompt: `queue ${i}` }));
      const last = tasks.at(-1) as TaskView;
      expect(last.state).toBe('QUEUED');
      expect(last.queuePosition).toBeGreaterThanOrEqual(3);
      expect(last.estimatedStartAt).not.toBeNull();
      const history = watch(stack, last.id);
      await subscribersReady(stack, 1);
      const snapshots = await history;
      // QUEUED also covers PicWish's own queue (upstream state 0); only the gateway's queue has a position.
      const waiting = snapshots.filter((t) => t.state === 'QUEUED' && t.upstreamTaskId === null);
      const positions = waiting.map((t) => t.queuePosition as number);
      expect(positions.length).toBeGreaterThanOrEqual(2);
      // Strictly counting down, ending at 1 before the task is sent.
      for (let i = 1; i < positions.length; i += 1)
        expect(positions[i]).toBeLessThanOrEqual(positions[i - 1] as number);
      expect(new Set(positions).size).toBeGreaterThanOrEqual(2);
      expect(positions.at(-1)).toBe(1);
      const estimates = waiting.map((t) => Date.parse(t.estimatedStartAt as string));
      expect(estimates.every((e) => Number.isFinite(e))).toBe(true);
      for (const t of snapshots.filter((t) => t.upstreamTaskId !== null)) {
        expect(t.queuePosition).toBeNull();
        expect(t.estimatedStartAt).toBeNull();
      }
      expect(snapshots.at(-1)?.state).toBe('SUCCEEDED');
    },
    90_000,
  );
});
