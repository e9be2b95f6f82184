/**
 * Cluster benchmark (not a test), issue #13: gateway processes on one PostgreSQL and one
 * S3-protocol server (s3rver) against a local engine enforcing 2 QPS per key strictly.
 *
 * - Key pool, side by side: the same batch through a two-instance cluster with one PicWish key,
 *   then with two — total time with two ÷ with one (about 0.5 is the point of the pool), 429s,
 *   and the cluster's polls per task.
 * - Failover: three instances, one key; the leader is SIGKILLed while tasks are being polled, and
 *   the time to the first poll the engine sees afterwards (the new leader's) is measured, twice.
 *
 * Run: `npx tsx bench/cluster.ts [tasks]`. Needs PostgreSQL at TEST_DATABASE_URL (default
 * 127.0.0.1:5432, as the tests); makes and drops a throwaway database per cluster.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createTask,
  type GatewayProcess,
  getTask,
  readyz,
  spawnGateway,
  stopGateway,
} from '../test/support/cluster.js';
import { transparentPng } from '../test/support/fixtures.js';
import { createTestDatabase } from '../test/support/pg-db.js';
import { type PicWishDouble, startPicWishDouble } from '../test/support/picwish-double.js';
import { startTestS3, type TestS3 } from '../test/support/s3-server.js';
import { median, sleep } from './lib/stats.js';

export interface ClusterBenchOptions {
  /** Tasks per batch (default 24). */
  readonly tasks?: number;
  /** Prints the report (default true). */
  readonly print?: boolean;
}

/** One batch through a two-instance cluster. */
export interface PoolRun {
  readonly keys: number;
  readonly totalMs: number;
  readonly succeeded: number;
  readonly rateLimited: number;
  readonly pollsPerTask: number;
}

export interface ClusterBenchResult {
  readonly tasks: number;
  readonly oneKey: PoolRun;
  readonly twoKeys: PoolRun;
  /** twoKeys.totalMs ÷ oneKey.totalMs */
  readonly twoKeysOverOne: number;
  /** Leader SIGKILL → first poll the engine sees, per failover, in ms. */
  readonly failoverMs: readonly number[];
}

const KEYS = ['bench-cluster-key-one-0123456789abcdef', 'bench-cluster-key-two-0123456789abcdef'];
const SETTLED = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

interface Cluster {
  readonly gateways: GatewayProcess[];
  close(): Promise<void>;
}

async function startCluster(
  s3: TestS3,
  engine: PicWishDouble,
  instances: number,
  keys: number,
): Promise<Cluster> {
  const database = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-cluster-'));
  const env = {
    DATABASE_URL: database.url,
    ...s3.env(`bench-${Date.now()}`),
    DATA_DIR: dataDir,
    FILES_SIGNING_SECRET: 'bench-cluster-signing-secret-0123456789abcdef',
    PICWISH_API_KEYS: KEYS.slice(0, keys).join(','),
    PICWISH_BASE_URL: engine.url,
    PICWISH_QPS: '2',
    PICWISH_TIMEOUT_MS: '5000',
    // The batch is one tenant's: its limits must not be what is measured.
    TENANT_MAX_ACTIVE_TASKS: '10000',
    TENANT_RATE_LIMIT_PER_MINUTE: '10000',
  };
  const gateways = await Promise.all(Array.from({ length: instances }, (_, i) => spawnGateway(`g${i}`, env)));
  return {
    gateways,
    async close() {
      await Promise.all(gateways.map((gateway) => stopGateway(gateway)));
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function leaderOf(gateways: readonly GatewayProcess[]): Promise<GatewayProcess> {
  for (;;) {
    for (const gateway of gateways) {
      if (gateway.child.exitCode !== null || gateway.child.signalCode !== null) continue;
      const ready = await readyz(gateway.url);
      if ((ready.body.checks as { scheduler?: { leader?: boolean } })?.scheduler?.leader) return gateway;
    }
    await sleep(100);
  }
}

async function waitSettled(url: string, ids: readonly string[]): Promise<number> {
  let succeeded = 0;
  for (const id of ids) {
    for (;;) {
      const task = await getTask(url, id);
      if (task && SETTLED.includes(task.state)) {
        if (task.state === 'SUCCEEDED') succeeded += 1;
        break;
      }
      await sleep(200);
    }
  }
  return succeeded;
}

async function poolRun(
  s3: TestS3,
  engine: PicWishDouble,
  png: Buffer,
  n: number,
  keys: number,
): Promise<PoolRun> {
  const cluster = await startCluster(s3, engine, 2, keys);
  try {
    await leaderOf(cluster.gateways);
    engine.resetStats();
    const started = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < n; i += 1) {
      const on = cluster.gateways[i % 2] as GatewayProcess;
      ids.push((await createTask(on.url, png, `bench pool ${keys} ${i}`)).id);
    }
    const succeeded = await waitSettled((cluster.gateways[0] as GatewayProcess).url, ids);
    const totalMs = Date.now() - started;
    const stats = engine.stats();
    return { keys, totalMs, succeeded, rateLimited: stats.rateLimited, pollsPerTask: stats.polls / n };
  } finally {
    await cluster.close();
  }
}

async function failovers(s3: TestS3, engine: PicWishDouble, png: Buffer, rounds: number): Promise<number[]> {
  const cluster = await startCluster(s3, engine, rounds + 1, 1);
  const times: number[] = [];
  try {
    for (let round = 0; round < rounds; round += 1) {
      const lead = await leaderOf(cluster.gateways);
      const ids: string[] = [];
      for (let i = 0; i < 4; i += 1)
        ids.push((await createTask(lead.url, png, `bench failover ${round} ${i}`)).id);
      // Wait until the leader polls: the tasks were sent and are being watched upstream.
      const pollsBefore = engine.stats().polls;
      while (engine.stats().polls === pollsBefore) await sleep(10);
      lead.kill('SIGKILL');
      const killedAt = Date.now();
      await lead.exited;
      const pollsAtKill = engine.stats().polls;
      while (engine.stats().polls === pollsAtKill) await sleep(5);
      times.push(Date.now() - killedAt);
      const survivor = cluster.gateways.find((g) => g.child.exitCode === null && g.child.signalCode === null);
      await waitSettled((survivor as GatewayProcess).url, ids);
    }
    return times;
  } finally {
    await cluster.close();
  }
}

export async function runClusterBench(options: ClusterBenchOptions = {}): Promise<ClusterBenchResult> {
  const n = options.tasks ?? 24;
  const s3 = await startTestS3();
  const engine = await startPicWishDouble({
    qps: 2,
    durationMs: 4_000,
    apiKey: KEYS[0],
    extraApiKeys: KEYS.slice(1),
  });
  try {
    const png = await transparentPng(400, 300);
    const oneKey = await poolRun(s3, engine, png, n, 1);
    const twoKeys = await poolRun(s3, engine, png, n, 2);
    const failoverMs = await failovers(s3, engine, png, 2);
    const result = {
      tasks: n,
      oneKey,
      twoKeys,
      twoKeysOverOne: twoKeys.totalMs / oneKey.totalMs,
      failoverMs,
    };
    if (options.print !== false) {
      const row = (run: PoolRun) =>
        `${run.keys} key(s): ${(run.totalMs / 1000).toFixed(1)} s, ${run.succeeded}/${n} succeeded, ${run.rateLimited} × 429, ${run.pollsPerTask.toFixed(2)} polls per task`;
      console.log(`cluster of 2, ${n} tasks — ${row(oneKey)}; ${row(twoKeys)}`);
      console.log(`two keys ÷ one key: ${result.twoKeysOverOne.toFixed(2)}×`);
      console.log(
        `failover (leader SIGKILL → first resumed poll): ${failoverMs.map((ms) => `${ms} ms`).join(', ')}; median ${median(failoverMs)} ms`,
      );
    }
    return result;
  } finally {
    await engine.close();
    await s3.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const tasks = Number(process.argv[2]) || undefined;
  runClusterBench(tasks ? { tasks } : {}).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`cluster bench failed: ${(error as Error).stack ?? error}\n`);
      process.exit(1);
    },
  );
}
