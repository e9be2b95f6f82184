import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalEngine, startLocalEngine } from '../src/local-engine/index.js';
import {
  clusterEnv,
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
 * Issue #13: in the PostgreSQL cluster mode the elected leader drives a key's tasks, but their
 * subscribers may be connected to any instance. A task watched only on a follower is polled as a
 * watched one (poll-policy.ts), and the watch lapses once the follower is SIGKILLed. Two real
 * processes on one PostgreSQL and one S3-protocol server; what is asserted is the leader's
 * decision for each poll it plans (`gateway_polls_planned_total{watched}` on its /metrics),
 * never how long anything took.
 */
let database: TestDatabase;
let s3: TestS3;
let engine: LocalEngine;
let dataDir: string;
let png: Buffer;
const gateways: GatewayProcess[] = [];

async function start(name: string): Promise<GatewayProcess> {
  const gateway = await spawnGateway(
    name,
    // Each instance its own working directory, as on separate machines.
    clusterEnv({
      databaseUrl: database.url,
      storage: s3.env('watchers'),
      dataDir: join(dataDir, name),
      engine,
    }),
  );
  gateways.push(gateway);
  return gateway;
}

function isLeader(ready: { body: Record<string, unknown> }): boolean {
  return (ready.body.checks as { scheduler?: { leader?: boolean } } | undefined)?.scheduler?.leader === true;
}

/** Polls `gateway` planned so far, by where their task was watched (summed over keys). */
async function plannedPolls(
  gateway: GatewayProcess,
): Promise<Record<'here' | 'elsewhere' | 'nobody', number>> {
  const text = await (await fetch(`${gateway.url}/metrics`)).text();
  const counts = { here: 0, elsewhere: 0, nobody: 0 };
  for (const match of text.matchAll(/^gateway_polls_planned_total\{([^}]*)\} (\S+)$/gm)) {
    const watched = /watched="(\w+)"/.exec(match[1] as string)?.[1] as keyof typeof counts;
    if (watched in counts) counts[watched] += Number(match[2]);
  }
  return counts;
}

beforeAll(async () => {
  database = await createTestDatabase();
  s3 = await startTestS3();
  // Long enough upstream that the leader plans many polls before, and after, the follower's death.
  engine = await startLocalEngine({ qps: 2, durationMs: 90_000 });
  dataDir = mkdtempSync(join(tmpdir(), 'gw-pg-watchers-'));
  png = await transparentPng(400, 300);
  await Promise.all([start('a'), start('b')]);
}, 120_000);

afterAll(async () => {
  await Promise.all(gateways.map((gateway) => stopGateway(gateway)));
  await engine?.close();
  await s3?.stop();
  await database?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describe('watchers on a follower of the PostgreSQL cluster', () => {
  it('make the leader poll the task as a watched one, until the follower is SIGKILLed and its watch lapses', async () => {
    const lead = await eventually(async () => {
      const answers = await Promise.all(gateways.map(async (g) => ({ g, ready: await readyz(g.url) })));
      return answers.find((answer) => isLeader(answer.ready))?.g;
    }, 30_000);
    const follower = gateways.find((g) => g !== lead) as GatewayProcess;
    const task = await createTask(follower.url, png, `watched on a follower ${Date.now()}`);
    const watching = watchTask(follower.url, task.id).catch(() => null);
    const upstreamId = await eventually(
      async () => (await getTask(lead.url, task.id))?.upstreamTaskId ?? undefined,
      30_000,
    );

    // Watched on the follower only: once the leader heard of it, its plans say "elsewhere", never "here".
    const submitted = await plannedPolls(lead);
    const before = await eventually(async () => {
      const now = await plannedPolls(lead);
      return now.elsewhere > submitted.elsewhere ? now : undefined;
    }, 30_000);
    const watched = await eventually(async () => {
      const now = await plannedPolls(lead);
      return now.elsewhere >= before.elsewhere + 3 ? now : undefined;
    }, 60_000);
    expect(watched.here).toBe(0);
    expect(watched.nobody).toBe(before.nobody);
    expect(engine.stats().pollsByTask[upstreamId]).toBeGreaterThanOrEqual(3);

    follower.kill('SIGKILL');
    expect(await follower.exited).toBe('SIGKILL');
    await watching;
    const killed = await plannedPolls(lead);
    // Nobody said the watch ended; it lapses, and the leader plans the task's polls as unwatched.
    const lapsed = await eventually(async () => {
      const now = await plannedPolls(lead);
      return now.nobody >= killed.nobody + 2 ? now : undefined;
    }, 60_000);
    console.log(
      `polls planned by the leader: ${watched.elsewhere - before.elsewhere}+ watched elsewhere, then ${lapsed.elsewhere - killed.elsewhere} until the follower's watch lapsed, then ${lapsed.nobody - killed.nobody} unwatched`,
    );
    const settled = await plannedPolls(lead);
    await eventually(async () => {
      const now = await plannedPolls(lead);
      return now.nobody > settled.nobody ? true : undefined;
    }, 30_000);
    expect((await plannedPolls(lead)).elsewhere).toBe(settled.elsewhere);
    expect((await getTask(lead.url, task.id))?.state).not.toMatch(/FAILED|CANCELLED/);
  }, 240_000);
});
