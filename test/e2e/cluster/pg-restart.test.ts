import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClusterTask,
  clusterEnv,
  createTask,
  type GatewayProcess,
  getTask,
  readyz,
  spawnGateway,
  stopGateway,
} from '../../support/cluster.js';
import { transparentPng } from '../../support/fixtures.js';
import { eventually } from '../../support/harness.js';
import { type OwnPostgres, startOwnPostgres } from '../../support/own-postgres.js';
import { type PicWishDouble, startPicWishDouble } from '../../support/picwish-double.js';
import { startTestS3, type TestS3 } from '../../support/s3-server.js';
import { ifFinal } from '../../support/task-ops.js';

/**
 * Issue #13: the cluster rides out a PostgreSQL restart — tasks pause, nothing is lost, it
 * recovers by itself. The restart is of a PostgreSQL server this file starts for itself
 * (support/own-postgres.ts): the machine's shared server at 5432 serves other test files running
 * at the same moment, which a restart would break.
 */
let postgres: OwnPostgres;
let s3: TestS3;
let engine: PicWishDouble;
let png: Buffer;
const dataDirs: string[] = [];
const gateways: GatewayProcess[] = [];

async function start(name: string): Promise<GatewayProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), `gw-pg-restart-${name}-`));
  dataDirs.push(dataDir);
  const gateway = await spawnGateway(
    name,
    clusterEnv({ databaseUrl: postgres.url, storage: s3.env('restart'), dataDir, engine }),
  );
  gateways.push(gateway);
  return gateway;
}

/** When the PostgreSQL server (re)started, as it says. */
async function startedAt(): Promise<string> {
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ at: Date }>('select pg_postmaster_start_time() as at');
    return (rows[0] as { at: Date }).at.toISOString();
  } finally {
    await client.end();
  }
}

/** A task read through any gateway that answers (during the restart some answers are errors). */
async function readAnywhere(id: string): Promise<ClusterTask | null> {
  for (const gateway of gateways) {
    try {
      return await getTask(gateway.url, id);
    } catch {
      // This one could not read the store right now: try the next, or the next round.
    }
  }
  return null;
}

beforeAll(async () => {
  postgres = await startOwnPostgres();
  s3 = await startTestS3();
  engine = await startPicWishDouble({ qps: 2, durationMs: 3_000 });
  png = await transparentPng(400, 300);
  await Promise.all([start('a'), start('b')]);
}, 120_000);

afterAll(async () => {
  await Promise.all(gateways.map((gateway) => stopGateway(gateway)));
  await engine?.close();
  await s3?.stop();
  postgres?.stop();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('a PostgreSQL restart under a cluster', () => {
  it('pauses the tasks and loses none: after the restart a leader is elected again, every task finishes, none is sent twice, /readyz turns ready again', async () => {
    const prompts = Array.from({ length: 6 }, (_, i) => `pg restart scene ${i}`);
    const tasks: ClusterTask[] = [];
    for (const [i, prompt] of prompts.entries()) {
      tasks.push(await createTask((gateways[i % 2] as GatewayProcess).url, png, prompt));
    }
    await eventually(async () => {
      const views = await Promise.all(
        tasks.map((task) => getTask((gateways[0] as GatewayProcess).url, task.id)),
      );
      return views.some((view) => view?.upstreamTaskId) ? true : undefined;
    }, 30_000);

    const before = await startedAt();
    postgres.restart();
    // A real restart: the server came back as a new postmaster, every session was cut.
    expect(await startedAt()).not.toBe(before);

    const ends = await Promise.all(
      tasks.map((task) => eventually(async () => ifFinal(await readAnywhere(task.id)), 90_000, 250)),
    );
    expect(ends.map((end) => end.state)).toEqual(Array(6).fill('SUCCEEDED'));
    for (const prompt of prompts) {
      expect(engine.stats().creates_log.filter((entry) => entry.fields.prompt === prompt)).toHaveLength(1);
    }
    expect(engine.stats().rateLimited).toBe(0);
    for (const gateway of gateways) {
      const ready = await eventually(async () => {
        const answer = await readyz(gateway.url);
        return answer.status === 200 ? answer : undefined;
      }, 30_000);
      expect(ready.body).toMatchObject({ checks: { store: { kind: 'postgres', ok: true } } });
    }
    // Every gateway is still the one that started: none had to be restarted to recover.
    for (const gateway of gateways) expect(gateway.child.exitCode).toBeNull();
  }, 180_000);
});
