import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalEngine, startLocalEngine } from '../src/local-engine/index.js';
import {
  type ClusterTask,
  createTask,
  type GatewayProcess,
  getTask,
  readyz,
  spawnGateway,
  startRedisServer,
  startRedisServerOnFreePort,
  stopGateway,
  stopRedisServer,
  watchTask,
} from './support/cluster.js';
import { transparentPng } from './support/fixtures.js';
import { eventually } from './support/harness.js';
import { startTestRedis, type TestRedis } from './support/redis-db.js';

/**
 * Issue #7: several gateway processes on one Redis act as one gateway. Real processes
 * (`node --import tsx src/main.ts`), one Redis database, one DATA_DIR, one local engine that
 * enforces 2 QPS strictly (any window the cluster overfills shows up as a 429 in its stats).
 */
/** The cluster's Redis: its own server, or database 12 of TEST_REDIS_URL (see support/redis-db). */
let clusterRedis: TestRedis;

let engine: LocalEngine;
let dataDir: string;
let png: Buffer;
const gateways: GatewayProcess[] = [];

function envFor(redisUrl: string, dir: string): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    DATA_DIR: dir,
    PICWISH_API_KEY: engine.apiKey,
    PICWISH_BASE_URL: engine.url,
    PICWISH_QPS: '2',
    PICWISH_TIMEOUT_MS: '5000',
  };
}

async function start(name: string, redisUrl = clusterRedis.url, dir = dataDir): Promise<GatewayProcess> {
  const gateway = await spawnGateway(name, envFor(redisUrl, dir));
  gateways.push(gateway);
  return gateway;
}

function withHost(link: string, base: string): string {
  const url = new URL(link);
  const target = new URL(base);
  url.host = target.host;
  return url.toString();
}

function settled(task: ClusterTask | null): ClusterTask | undefined {
  return task && ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(task.state) ? task : undefined;
}

/** How many creates reached the engine for a prompt (each test task has its own prompt). */
function createsOf(prompt: string): number {
  return engine.stats().creates_log.filter((entry) => entry.fields.prompt === prompt).length;
}

beforeAll(async () => {
  clusterRedis = await startTestRedis(12);
  const redis = new Redis(clusterRedis.url, { lazyConnect: true });
  await redis.connect();
  await redis.flushdb();
  await redis.quit();
  engine = await startLocalEngine({ qps: 2, durationMs: 5_000 });
  dataDir = mkdtempSync(join(tmpdir(), 'gw-cluster-'));
  png = await transparentPng(400, 300);
  await start('a');
  await Promise.all([start('b'), start('c')]);
}, 120_000);

afterAll(async () => {
  await Promise.all(gateways.map((gateway) => stopGateway(gateway)));
  await engine?.close();
  await clusterRedis?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

/** Six tasks created on `creator`, each watched over SSE from every one of `watchers`; polls per task. */
async function pollsPerTask(creator: GatewayProcess, watchers: GatewayProcess[], label: string) {
  engine.resetStats();
  const started = Date.now();
  const tasks = await Promise.all(
    Array.from({ length: 6 }, (_, i) => createTask(creator.url, png, `${label} scene ${i}`)),
  );
  const histories = await Promise.all(
    tasks.flatMap((task) => watchers.map((gateway) => watchTask(gateway.url, task.id))),
  );
  const elapsed = Date.now() - started;
  const stats = engine.stats();
  const views = await Promise.all(tasks.map((task) => getTask(creator.url, task.id)));
  const polls = views.map((view) => stats.pollsByTask[view?.upstreamTaskId ?? ''] ?? 0);
  const perTask = polls.reduce((sum, n) => sum + n, 0) / polls.length;
  console.log(
    `${label}: 6 tasks watched from ${watchers.length} instance(s): polls per task ${perTask.toFixed(2)} (min ${Math.min(...polls)}, max ${Math.max(...polls)}), ${(elapsed / 1000).toFixed(1)} s, 429s ${stats.rateLimited}`,
  );
  return { tasks, histories, stats, views, polls, perTask };
}

describe('a cluster of gateway processes on Redis', () => {
  let finished: ClusterTask | null = null;
  let clusterPollsPerTask = 0;

  it('reports Redis, the store and the upstream on /readyz', async () => {
    const [a] = gateways as [GatewayProcess];
    const ready = await readyz(a.url);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: 'ready',
      checks: {
        store: { kind: 'redis', ok: true },
        redis: { ok: true },
        upstream: { kind: 'picwish', baseUrl: engine.url, qps: 2, budget: 'cluster' },
      },
    });
  });

  it('drives tasks created on one instance and watched from all to SUCCEEDED everywhere, within one 2-QPS budget', async () => {
    const [a, b, c] = gateways as [GatewayProcess, GatewayProcess, GatewayProcess];
    const { tasks, histories, stats, views, polls, perTask } = await pollsPerTask(a, [a, b, c], 'cluster');
    // Queue positions are the cluster's, counted as soon as the task is accepted.
    for (const task of tasks.filter((t) => t.state === 'QUEUED')) {
      expect(task.queuePosition).toBeGreaterThanOrEqual(1);
    }
    for (const history of histories) {
      expect(history.at(-1)?.state).toBe('SUCCEEDED');
      expect(history.at(-1)?.images).toHaveLength(1);
      const progress = history.map((snapshot) => snapshot.progress);
      expect(progress).toEqual([...progress].sort((x, y) => x - y));
    }
    expect(stats.rateLimited).toBe(0);
    expect(stats.creates).toBe(6);
    expect(stats.createAttempts).toBe(6);
    expect(Math.min(...polls)).toBeGreaterThanOrEqual(1);
    expect(perTask).toBeLessThanOrEqual(5);
    clusterPollsPerTask = perTask;
    finished = (await getTask(b.url, views[0]?.id ?? '')) ?? null;
  }, 120_000);

  it('polls each task about as often as a single gateway process does', async () => {
    const soloDir = mkdtempSync(join(tmpdir(), 'gw-solo-'));
    const solo = await spawnGateway('solo', { ...envFor('', soloDir), REDIS_URL: '' });
    try {
      expect((await readyz(solo.url)).body).toMatchObject({ checks: { store: { kind: 'sqlite' } } });
      const single = await pollsPerTask(solo, [solo, solo, solo], 'single process');
      for (const history of single.histories) expect(history.at(-1)?.state).toBe('SUCCEEDED');
      expect(single.stats.rateLimited).toBe(0);
      console.log(
        `polls per task: single process ${single.perTask.toFixed(2)}, cluster of 3 ${clusterPollsPerTask.toFixed(2)}`,
      );
      expect(clusterPollsPerTask).toBeLessThanOrEqual(single.perTask + 1);
    } finally {
      await stopGateway(solo);
      rmSync(soloDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('serves a result stored by one instance from every other instance', async () => {
    const [a, b, c] = gateways as [GatewayProcess, GatewayProcess, GatewayProcess];
    expect(finished?.images[0]?.url).toBeTruthy();
    const link = finished?.images[0]?.url as string;
    const bodies: Buffer[] = [];
    for (const gateway of [a, b, c]) {
      const response = await fetch(withHost(link, gateway.url));
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/png');
      bodies.push(Buffer.from(await response.arrayBuffer()));
    }
    expect(bodies[1]?.equals(bodies[0] as Buffer)).toBe(true);
    expect(bodies[2]?.equals(bodies[0] as Buffer)).toBe(true);
  });

  it('counts queue positions down for a watcher on another instance than the task’s owner', async () => {
    const [a, b] = gateways as [GatewayProcess, GatewayProcess];
    engine.resetStats();
    const tasks: ClusterTask[] = [];
    for (let i = 0; i < 6; i += 1) tasks.push(await createTask(a.url, png, `queue scene ${i} ${Date.now()}`));
    const last = tasks.at(-1) as ClusterTask;
    // Created on a, so driven by a; watched on b, whose process never touches the queue itself.
    const history = await watchTask(b.url, last.id);
    const positions = history
      .filter((t) => t.state === 'QUEUED' && t.upstreamTaskId === null)
      .map((t) => t.queuePosition as number);
    console.log(`queue positions seen on the other instance: ${positions.join(' → ')}`);
    expect(positions.length).toBeGreaterThanOrEqual(2);
    expect(new Set(positions).size).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < positions.length; i += 1) {
      expect(positions[i]).toBeLessThanOrEqual(positions[i - 1] as number);
    }
    expect(history.at(-1)?.state).toBe('SUCCEEDED');
    for (const t of history.filter((t) => t.upstreamTaskId !== null)) expect(t.queuePosition).toBeNull();
    await Promise.all(
      tasks.map((task) => eventually(async () => settled(await getTask(a.url, task.id)), 60_000, 250)),
    );
  }, 120_000);

  it('hands the tasks of an instance killed with SIGKILL to the survivors: all finish, none is created twice', async () => {
    const [a] = gateways as [GatewayProcess];
    const victim = await start('victim');
    engine.resetStats();
    const prompts = Array.from({ length: 5 }, (_, i) => `failover scene ${i} ${Date.now()}`);
    const tasks: ClusterTask[] = [];
    for (const prompt of prompts) tasks.push(await createTask(victim.url, png, prompt));
    // Kill it while it owns running tasks (and maybe still has some to send).
    await eventually(async () => {
      const views = await Promise.all(tasks.map((task) => getTask(a.url, task.id)));
      return views.filter((view) => view?.upstreamTaskId).length >= 3 ? true : undefined;
    }, 30_000);
    const upstreamBefore = new Map<string, string>();
    for (const task of tasks) {
      const view = await getTask(a.url, task.id);
      if (view?.upstreamTaskId) upstreamBefore.set(task.id, view.upstreamTaskId);
    }
    victim.kill('SIGKILL');
    const killedAt = Date.now();
    expect(await victim.exited).toBe('SIGKILL');
    const before = engine.stats();

    // Failover time: until a survivor polls each task the victim had submitted.
    const resumedAfter = new Map<string, number>();
    const resumed = await eventually(
      async () => {
        const now = engine.stats();
        for (const id of upstreamBefore.values()) {
          if (!resumedAfter.has(id) && (now.pollsByTask[id] ?? 0) > (before.pollsByTask[id] ?? 0)) {
            resumedAfter.set(id, Date.now() - killedAt);
          }
        }
        return resumedAfter.size === upstreamBefore.size ? Date.now() - killedAt : undefined;
      },
      30_000,
      50,
    );
    const firstResumed = Math.min(...resumedAfter.values());

    const ends = await Promise.all(
      tasks.map((task) => eventually(async () => settled(await getTask(a.url, task.id)), 60_000, 250)),
    );
    const doneAfter = Date.now() - killedAt;
    const stats = engine.stats();
    console.log(
      `failover: ${upstreamBefore.size} running tasks resumed ${(firstResumed / 1000).toFixed(1)}–${(resumed / 1000).toFixed(1)} s after SIGKILL; all ${tasks.length} settled after ${(doneAfter / 1000).toFixed(1)} s (${ends
        .map((end) => end.state + (end.error ? `:${end.error.code}` : ''))
        .join(', ')}); 429s ${stats.rateLimited}`,
    );
    expect(stats.rateLimited).toBe(0);
    for (const [i, end] of ends.entries()) {
      const prompt = prompts[i] as string;
      if (upstreamBefore.has(end.id)) {
        // Submitted before the kill: resumed by polling, never sent again.
        expect(end.state).toBe('SUCCEEDED');
        expect(createsOf(prompt)).toBe(1);
        expect(end.upstreamTaskId).toBe(upstreamBefore.get(end.id));
      } else if (end.state === 'SUCCEEDED') {
        expect(createsOf(prompt)).toBe(1);
      } else {
        // Killed in the middle of its create: the outcome is unknown, so it is not sent again.
        expect(end.state).toBe('FAILED');
        expect(end.error?.code).toBe('UPSTREAM_OUTCOME_UNKNOWN');
        expect(createsOf(prompt)).toBeLessThanOrEqual(1);
      }
    }
  }, 150_000);

  it('drains on SIGTERM: its SSE streams end, it exits 0, and its tasks finish on the others', async () => {
    const [a, b, c] = gateways as [GatewayProcess, GatewayProcess, GatewayProcess];
    engine.resetStats();
    const prompt = `drain scene ${Date.now()}`;
    const task = await createTask(c.url, png, prompt);
    const stream = watchTask(c.url, task.id);
    await eventually(
      async () => ((await getTask(c.url, task.id))?.upstreamTaskId ? true : undefined),
      30_000,
    );
    c.kill('SIGTERM');
    const stoppedAt = Date.now();
    expect(await c.exited).toBe(0);
    const drainMs = Date.now() - stoppedAt;
    const history = await stream;
    expect(history.length).toBeGreaterThanOrEqual(1);
    expect(history[0]?.id).toBe(task.id);
    const end = await eventually(async () => settled(await getTask(b.url, task.id)), 60_000, 250);
    console.log(
      `drain: SIGTERM to exit ${drainMs} ms; task settled on the survivors ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s after SIGTERM`,
    );
    expect(end.state).toBe('SUCCEEDED');
    expect(createsOf(prompt)).toBe(1);
    expect(engine.stats().rateLimited).toBe(0);
    expect((await readyz(a.url)).status).toBe(200);
    expect(c.stderr()).not.toMatch(/"level":(50|60)/);
  }, 120_000);
});

describe('a cluster whose Redis restarts', () => {
  let redisServer: ChildProcess | null = null;
  let pair: GatewayProcess[] = [];
  let spareDir: string;
  /** A dedicated redis-server (killed and started again), on a port the OS picked. */
  let sparePort: number;

  beforeAll(async () => {
    ({ child: redisServer, port: sparePort } = await startRedisServerOnFreePort());
    spareDir = mkdtempSync(join(tmpdir(), 'gw-cluster-redis-'));
    const url = `redis://127.0.0.1:${sparePort}/0`;
    pair = [await start('r1', url, spareDir), await start('r2', url, spareDir)];
  }, 120_000);

  afterAll(async () => {
    await Promise.all(pair.map((gateway) => stopGateway(gateway)));
    if (redisServer) await stopRedisServer(redisServer);
    if (spareDir) rmSync(spareDir, { recursive: true, force: true });
  }, 60_000);

  it('reports 503 while Redis is away, keeps running, and works again once it is back', async () => {
    const [r1, r2] = pair as [GatewayProcess, GatewayProcess];
    const first = await createTask(r1.url, png, `before outage ${Date.now()}`);
    const watched = await watchTask(r2.url, first.id);
    expect(watched.at(-1)?.state).toBe('SUCCEEDED');

    await stopRedisServer(redisServer as ChildProcess);
    const outageAt = Date.now();
    for (const gateway of pair) {
      const down = await eventually(async () => {
        const ready = await readyz(gateway.url);
        return ready.status === 503 ? ready : undefined;
      }, 20_000);
      expect(down.body).toMatchObject({ status: 'unavailable', problems: { redis: 'unreachable' } });
    }
    // A request that needs Redis fails as an error answer, not a crash.
    const during = await fetch(`${r1.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ backgroundTask(id: "x") { id } }' }),
    });
    expect(during.status).toBeGreaterThanOrEqual(200);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    for (const gateway of pair) expect(gateway.child.exitCode).toBeNull();

    redisServer = await startRedisServer(sparePort);
    for (const gateway of pair) {
      await eventually(async () => ((await readyz(gateway.url)).status === 200 ? true : undefined), 30_000);
    }
    console.log(
      `redis restart: ready again ${((Date.now() - outageAt) / 1000).toFixed(1)} s after Redis went away`,
    );

    const prompt = `after outage ${Date.now()}`;
    const second = await createTask(r2.url, png, prompt);
    const history = await watchTask(r1.url, second.id);
    expect(history.at(-1)?.state).toBe('SUCCEEDED');
    expect(createsOf(prompt)).toBe(1);
    for (const gateway of pair) expect(gateway.stderr()).not.toMatch(/uncaught|unhandled/i);

    await Promise.all(pair.map((gateway) => stopGateway(gateway)));
    expect(await r1.exited).toBe(0);
    expect(await r2.exited).toBe(0);
  }, 150_000);
});
