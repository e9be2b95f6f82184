import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalEngine, startLocalEngine } from '../src/local-engine/index.js';
import {
  type ClusterTask,
  createTask,
  type GatewayProcess,
  getTask,
  readyz,
  spawnGateway,
  stopGateway,
  watchTask,
} from './support/cluster.js';
import { transparentPng } from './support/fixtures.js';
import { eventually } from './support/harness.js';
import { createTestDatabase, type TestDatabase } from './support/pg-db.js';
import { startTestS3, type TestS3 } from './support/s3-server.js';

/**
 * Issue #13: gateway processes on one PostgreSQL and one S3-protocol server act as one gateway,
 * with one elected scheduler for the PicWish key. Real processes, one local engine enforcing
 * 2 QPS strictly (an overfilled window shows up as a 429 in its stats). The upload spool is still
 * a shared DATA_DIR; results live in the bucket.
 */
let database: TestDatabase;
let s3: TestS3;
let engine: LocalEngine;
let dataDir: string;
let png: Buffer;
const gateways: GatewayProcess[] = [];

async function start(name: string): Promise<GatewayProcess> {
  const gateway = await spawnGateway(name, {
    DATABASE_URL: database.url,
    ...s3.env('cluster'),
    DATA_DIR: dataDir,
    FILES_SIGNING_SECRET: 'cluster-test-signing-secret-0123456789abcdef',
    PICWISH_API_KEY: engine.apiKey,
    PICWISH_BASE_URL: engine.url,
    PICWISH_QPS: '2',
    PICWISH_TIMEOUT_MS: '5000',
  });
  gateways.push(gateway);
  return gateway;
}

function alive(): GatewayProcess[] {
  return gateways.filter((g) => g.child.exitCode === null && g.child.signalCode === null);
}

/** The instance holding the key's lock (as its /readyz says), waiting for an election if need be. */
function leader(): Promise<GatewayProcess> {
  return eventually(async () => {
    for (const gateway of alive()) {
      const ready = await readyz(gateway.url);
      if ((ready.body.checks as { scheduler?: { leader?: boolean } })?.scheduler?.leader) return gateway;
    }
    return undefined;
  }, 20_000);
}

function settled(task: ClusterTask | null): ClusterTask | undefined {
  return task && ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(task.state) ? task : undefined;
}

function createsOf(prompt: string): number {
  return engine.stats().creates_log.filter((entry) => entry.fields.prompt === prompt).length;
}

function withHost(link: string, base: string): string {
  const url = new URL(link);
  url.host = new URL(base).host;
  return url.toString();
}

beforeAll(async () => {
  database = await createTestDatabase();
  s3 = await startTestS3();
  engine = await startLocalEngine({ qps: 2, durationMs: 4_000 });
  dataDir = mkdtempSync(join(tmpdir(), 'gw-pg-cluster-'));
  png = await transparentPng(400, 300);
  // Started together: the schema migration must not race.
  await Promise.all([start('a'), start('b'), start('c')]);
}, 120_000);

afterAll(async () => {
  await Promise.all(gateways.map((gateway) => stopGateway(gateway)));
  await engine?.close();
  await s3?.stop();
  await database?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describe('a cluster of gateway processes on PostgreSQL and S3', () => {
  it('elects exactly one scheduler and reports PostgreSQL and the blob store on /readyz', async () => {
    await leader();
    const answers = await Promise.all(gateways.map((gateway) => readyz(gateway.url)));
    for (const ready of answers) {
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({
        checks: { store: { kind: 'postgres', ok: true }, blobStore: { kind: 's3', ok: true } },
      });
    }
    const leaders = answers.filter(
      (ready) => (ready.body.checks as { scheduler: { leader: boolean } }).scheduler.leader,
    );
    expect(leaders).toHaveLength(1);
  });

  it('drives tasks created on a follower and watched from all to SUCCEEDED everywhere, 0 × 429', async () => {
    const lead = await leader();
    const follower = alive().find((g) => g !== lead) as GatewayProcess;
    engine.resetStats();
    const tasks = await Promise.all(
      Array.from({ length: 6 }, (_, i) => createTask(follower.url, png, `pg cluster scene ${i}`)),
    );
    const histories = await Promise.all(
      tasks.flatMap((task) => alive().map((gateway) => watchTask(gateway.url, task.id))),
    );
    for (const history of histories) {
      expect(history.at(-1)?.state).toBe('SUCCEEDED');
      const progress = history.map((snapshot) => snapshot.progress);
      expect(progress).toEqual([...progress].sort((x, y) => x - y));
    }
    const stats = engine.stats();
    const views = await Promise.all(tasks.map((task) => getTask(follower.url, task.id)));
    const polls = views.map((view) => stats.pollsByTask[view?.upstreamTaskId ?? ''] ?? 0);
    console.log(`pg cluster: polls per task ${(polls.reduce((a, b) => a + b, 0) / polls.length).toFixed(2)}`);
    expect(stats.rateLimited).toBe(0);
    expect(stats.creates).toBe(6);
    expect(Math.max(...polls)).toBeLessThanOrEqual(5);
  }, 120_000);

  it('hands the key to another instance when the leader is SIGKILLed: every task finishes, none is sent twice, results are served by all', async () => {
    const lead = await leader();
    engine.resetStats();
    const prompts = Array.from({ length: 5 }, (_, i) => `pg failover scene ${i} ${Date.now()}`);
    const tasks: ClusterTask[] = [];
    for (const prompt of prompts) tasks.push(await createTask(lead.url, png, prompt));
    await eventually(async () => {
      const views = await Promise.all(tasks.map((task) => getTask(lead.url, task.id)));
      return views.filter((view) => view?.upstreamTaskId).length >= 2 ? true : undefined;
    }, 30_000);
    lead.kill('SIGKILL');
    const killedAt = Date.now();
    expect(await lead.exited).toBe('SIGKILL');
    const next = await leader();
    console.log(
      `pg failover: new leader ${next.name} ${((Date.now() - killedAt) / 1000).toFixed(1)} s after SIGKILL`,
    );
    const survivor = alive()[0] as GatewayProcess;
    const ends = await Promise.all(
      tasks.map((task) => eventually(async () => settled(await getTask(survivor.url, task.id)), 60_000, 250)),
    );
    expect(engine.stats().rateLimited).toBe(0);
    for (const [i, end] of ends.entries()) {
      expect(createsOf(prompts[i] as string)).toBeLessThanOrEqual(1);
      if (end.state !== 'SUCCEEDED') expect(end.error?.code).toBe('UPSTREAM_OUTCOME_UNKNOWN');
    }
    const done = ends.find((end) => end.state === 'SUCCEEDED');
    const link = (await getTask(survivor.url, done?.id ?? ''))?.images[0]?.url as string;
    for (const gateway of alive()) {
      const response = await fetch(withHost(link, gateway.url));
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/png');
    }
  }, 150_000);

  it('hands over at once on SIGTERM: the leader exits 0 and its task finishes on the other', async () => {
    const lead = await leader();
    engine.resetStats();
    const prompt = `pg drain scene ${Date.now()}`;
    const task = await createTask(lead.url, png, prompt);
    await eventually(
      async () => ((await getTask(lead.url, task.id))?.upstreamTaskId ? true : undefined),
      30_000,
    );
    lead.kill('SIGTERM');
    expect(await lead.exited).toBe(0);
    const other = alive()[0] as GatewayProcess;
    expect(await leader()).toBe(other);
    const end = await eventually(async () => settled(await getTask(other.url, task.id)), 60_000, 250);
    expect(end.state).toBe('SUCCEEDED');
    expect(createsOf(prompt)).toBe(1);
    expect(engine.stats().rateLimited).toBe(0);
  }, 120_000);
});
