import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClusterRig,
  createTask,
  type GatewayProcess,
  getTask,
  readyz,
  startClusterRig,
} from '../../support/cluster.js';
import { transparentPng } from '../../support/fixtures.js';
import { eventually } from '../../support/harness.js';
import { ifFinal } from '../../support/task-ops.js';

/**
 * Issue #13: with `BLOB_STORE_URL=s3://…` spooled uploads live in the bucket too, so the elected
 * leader sends an upload another instance accepted — even once that instance is gone. Each
 * gateway has a DATA_DIR of its own (no shared volume): the leader can only have the upload
 * from the bucket.
 */
let rig: ClusterRig;
let png: Buffer;
let gateways: GatewayProcess[] = [];

async function isLeader(gateway: GatewayProcess): Promise<boolean> {
  const ready = await readyz(gateway.url);
  return (ready.body.checks as { scheduler?: { leader?: boolean } })?.scheduler?.leader === true;
}

beforeAll(async () => {
  rig = await startClusterRig({
    name: 's3-spool',
    engine: { qps: 1, durationMs: 2_000 },
    // One call a second: the tasks queued first keep the leader busy while the follower dies.
    env: { PICWISH_QPS: '1' },
    ownDataDirs: true,
  });
  gateways = rig.gateways;
  png = await transparentPng(400, 300);
  // One after the other: the first wins the key's lock, the second follows.
  await rig.start('leader');
  await eventually(async () => ((await isLeader(gateways[0] as GatewayProcess)) ? true : undefined));
  await rig.start('follower');
}, 120_000);

afterAll(() => rig?.close(), 60_000);

describe('spooled uploads in S3', () => {
  it('sends an upload the follower accepted after the follower was SIGKILLed: the leader takes it from the bucket and the task succeeds', async () => {
    const [leader, follower] = gateways as [GatewayProcess, GatewayProcess];
    expect(await isLeader(follower)).toBe(false);
    const ahead = [
      await createTask(leader.url, png, 'spool ahead 1'),
      await createTask(leader.url, png, 'spool ahead 2'),
    ];
    const task = await createTask(follower.url, png, 'spool from the follower');
    follower.kill('SIGKILL');
    expect(await follower.exited).toBe('SIGKILL');
    // Not sent yet when its instance died: two tasks were ahead of it at one call a second.
    expect((await getTask(leader.url, task.id))?.upstreamTaskId).toBeNull();

    const end = await eventually(async () => ifFinal(await getTask(leader.url, task.id)), 60_000, 250);
    expect(end.state).toBe('SUCCEEDED');
    const sent = rig.engine
      .stats()
      .creates_log.find((entry) => entry.fields.prompt === 'spool from the follower');
    expect(sent?.hadFile).toBe(true);
    for (const other of ahead) {
      expect(
        (await eventually(async () => ifFinal(await getTask(leader.url, other.id)), 60_000, 250)).state,
      ).toBe('SUCCEEDED');
    }
    // Sent, so the copies are gone: the leader's own spool holds nothing any more.
    expect(readdirSync(join(rig.dataDir, 'leader', 'spool'))).toEqual([]);
  }, 120_000);
});
