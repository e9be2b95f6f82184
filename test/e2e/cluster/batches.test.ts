import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchImages, sendBatch } from '../../support/batch-ops.js';
import { type ClusterRig, type GatewayProcess, startClusterRig } from '../../support/cluster.js';
import { readSse } from '../../support/harness.js';

/**
 * Issue #15 item 3 in a cluster: a batch created on one gateway process is followed to its end on
 * another, which hears the task updates over PostgreSQL (whichever instance leads the scheduler).
 */
let rig: ClusterRig;
let gateways: GatewayProcess[] = [];

beforeAll(async () => {
  rig = await startClusterRig({
    name: 'batch-cluster',
    engine: { durationMs: 1_500 },
    env: { PICWISH_QPS: '20' },
  });
  gateways = rig.gateways;
  await Promise.all([rig.start('a'), rig.start('b')]);
}, 120_000);

afterAll(() => rig?.close(), 60_000);

describe('batches on a PostgreSQL cluster', () => {
  it('follows a batch created on one instance to its end from another, and reads it there', async () => {
    const [a, b] = gateways as [GatewayProcess, GatewayProcess];
    const { good, tinyPng } = await batchImages();
    const answer = await sendBatch(a, [{ file: good }, { file: tinyPng }, { file: good }, { file: good }]);
    expect(answer.errors).toBeUndefined();
    const id = answer.data?.generateBackgrounds.batch.id as string;
    const { status, events } = await readSse(`${b.url}/graphql`, {
      body: JSON.stringify({
        query:
          'subscription($id: ID!) { backgroundBatchUpdated(id: $id) { done counts { accepted refused succeeded } } }',
        variables: { id },
      }),
    });
    expect(status).toBe(200);
    const updates = events
      .filter((event) => event.event === 'next')
      .map(
        (event) => (event.data as { data: { backgroundBatchUpdated: unknown } }).data.backgroundBatchUpdated,
      );
    expect(updates.at(-1)).toEqual({ done: true, counts: { accepted: 3, refused: 1, succeeded: 3 } });
    expect(events.at(-1)?.event).toBe('complete');
    const read = await fetch(`${b.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'query($id: ID!) { batch(id: $id) { done tasks { state } } }',
        variables: { id },
      }),
    });
    expect(((await read.json()) as { data: { batch: unknown } }).data.batch).toEqual({
      done: true,
      tasks: [{ state: 'SUCCEEDED' }, { state: 'SUCCEEDED' }, { state: 'SUCCEEDED' }],
    });
    expect(rig.engine.stats().creates).toBe(3);
  });
});
