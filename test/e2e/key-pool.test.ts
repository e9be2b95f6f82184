import { describe, expect } from 'vitest';
import { createLogger } from '../../src/observability/logging.js';
import { picwishKeyId } from '../../src/upstream/key-id.js';
import { type ClusterTask, createTask, getTask } from '../support/cluster.js';
import { transparentPng } from '../support/fixtures.js';
import { eventually } from '../support/harness.js';
import { type StackOptions, stackTest } from '../support/stack-test.js';

/**
 * Issue #13: a PicWish key pool (`PICWISH_API_KEYS`) in the embedded mode — one gateway process,
 * one scheduler per key in it. The local engine accepts both keys, limits each to its own strict
 * QPS window and answers a task's polls only to the key that created it, as PicWish does.
 */
const FIRST_KEY = 'first-picwish-key-0123456789abcdef';
const SECOND_KEY = 'second-picwish-key-0123456789abcdef';
const KEYS = [FIRST_KEY, SECOND_KEY];

/** A gateway on both keys at `qps` each, its debug log written to `logLines`. */
function poolOptions(qps: string, logLines: string[] = []): StackOptions {
  return {
    engine: { qps: 2, durationMs: 3_000, apiKey: FIRST_KEY, extraApiKeys: [SECOND_KEY] },
    env: { PICWISH_QPS: qps, PICWISH_API_KEY: '', PICWISH_API_KEYS: KEYS.join(',') },
    logger: createLogger('debug', { write: (line: string) => void logLines.push(line) }),
  };
}

/** What the gateway of the first test logged. */
const logLines: string[] = [];
const itAtTwoQps = stackTest(poolOptions('2', logLines), 'test');
const itAtOneCallPerTenSeconds = stackTest(poolOptions('0.1'), 'test');

describe('a PicWish key pool in one process', () => {
  itAtTwoQps(
    'spreads a batch over both keys, each within its own 2 QPS (0 × 429 per key), every task polled by the key that created it',
    async ({ stack: current }) => {
      const png = await transparentPng(400, 300);
      const tasks: ClusterTask[] = [];
      for (let i = 0; i < 8; i += 1) tasks.push(await createTask(current.url, png, `pool scene ${i}`));
      const ends = await Promise.all(
        tasks.map((task) =>
          eventually(async () => {
            const view = await getTask(current.url, task.id);
            return view && ['SUCCEEDED', 'FAILED'].includes(view.state) ? view : undefined;
          }, 60_000),
        ),
      );
      expect(ends.map((end) => end.state)).toEqual(Array(8).fill('SUCCEEDED'));
      const stats = current.engine.stats();
      const [first, second] = KEYS.map((key) => stats.byKey[key]);
      // A tie on empty queues goes to the key with fewer unfinished tasks: created one after the
      // other, the tasks alternate.
      expect(first?.creates).toBe(4);
      expect(second?.creates).toBe(4);
      expect(first?.rateLimited).toBe(0);
      expect(second?.rateLimited).toBe(0);
      expect(first?.polls).toBeGreaterThan(0);
      expect(second?.polls).toBeGreaterThan(0);

      const exposed = JSON.stringify([
        ends,
        await (await fetch(`${current.url}/metrics`)).text(),
        await (await fetch(`${current.url}/readyz`)).text(),
        logLines,
      ]);
      for (const key of KEYS) expect(exposed).not.toContain(key);
      // What names a key instead: its id, on the metrics.
      expect(exposed).toContain(picwishKeyId(SECOND_KEY));
    },
    90_000,
  );

  // One call per ten seconds per key: the first task of each key is sent, the others wait.
  itAtOneCallPerTenSeconds(
    'counts queue positions and start estimates per key',
    async ({ stack: current }) => {
      const png = await transparentPng(400, 300);
      for (let i = 0; i < 8; i += 1) await createTask(current.url, png, `pool queue ${i}`);
      const { body } = await current.gql<{
        backgroundTasks: {
          edges: { node: { queuePosition: number | null; estimatedStartAt: string | null } }[];
        };
      }>('{ backgroundTasks(first: 20) { edges { node { queuePosition estimatedStartAt } } } }');
      const nodes = body.data?.backgroundTasks.edges.map((edge) => edge.node) ?? [];
      const waiting = nodes.filter((node) => node.queuePosition !== null);
      // Three waiting behind each key's first task; one key alone would count them 1 to 6.
      expect(waiting.map((node) => node.queuePosition).sort()).toEqual([1, 1, 2, 2, 3, 3]);
      const startOf = (position: number) =>
        waiting
          .filter((node) => node.queuePosition === position)
          .map((node) => Date.parse(node.estimatedStartAt as string));
      // Each key's budget: one slot (10 s) per task ahead, whichever key the other task waits for.
      const ones = startOf(1);
      for (const [i, two] of startOf(2).entries()) {
        expect(Math.round((two - (ones[i] as number)) / 1000)).toBe(10);
      }
    },
    60_000,
  );
});
