import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClusterRig,
  createTask,
  type GatewayProcess,
  getTask,
  readyz,
  startClusterRig,
  watchTask,
} from '../../support/cluster.js';
import { transparentPng } from '../../support/fixtures.js';
import { eventually } from '../../support/harness.js';
import type { PicWishDouble } from '../../support/picwish-double.js';

/**
 * Issue #13: in the PostgreSQL cluster mode the elected leader drives a key's tasks, but their
 * subscribers may be connected to any instance. A task watched only on a follower is polled as a
 * watched one (poll-policy.ts), and the watch lapses once the follower is SIGKILLed. Two real
 * processes on one PostgreSQL and one S3-protocol server; what is asserted is the leader's
 * decision for each poll it plans (`gateway_polls_planned_total{watched}` on its /metrics),
 * never how long anything took.
 */
let rig: ClusterRig;
let engine: PicWishDouble;
let png: Buffer;
let gateways: GatewayProcess[] = [];

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
  // Long enough upstream that the leader plans many polls before, and after, the follower's death;
  // each instance its own working directory, as on separate machines.
  rig = await startClusterRig({
    name: 'pg-watchers',
    engine: { qps: 2, durationMs: 90_000 },
    ownDataDirs: true,
  });
  ({ engine, gateways } = rig);
  png = await transparentPng(400, 300);
  await Promise.all([rig.start('a'), rig.start('b')]);
}, 120_000);

afterAll(() => rig?.close(), 60_000);

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
