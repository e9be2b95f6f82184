import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalEngine, startLocalEngine } from '../src/local-engine/index.js';
import { batchImages, sendBatch } from './support/batch-ops.js';
import { type GatewayProcess, spawnGateway, stopGateway } from './support/cluster.js';
import { readSse } from './support/harness.js';
import { createTestDatabase, type TestDatabase } from './support/pg-db.js';
import { startTestS3, type TestS3 } from './support/s3-server.js';

/**
 * Issue #15 item 3 in a cluster: a batch created on one gateway process is followed to its end on
 * another, which hears the task updates over PostgreSQL (whichever instance leads the scheduler).
 */
let database: TestDatabase;
let s3: TestS3;
let engine: LocalEngine;
let dataDir: string;
const gateways: GatewayProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  s3 = await startTestS3();
  engine = await startLocalEngine({ durationMs: 1_500 });
  dataDir = mkdtempSync(join(tmpdir(), 'gw-batch-cluster-'));
  const env = {
    DATABASE_URL: database.url,
    ...s3.env('batches'),
    DATA_DIR: dataDir,
    FILES_SIGNING_SECRET: 'batch-cluster-signing-secret-0123456789abcdef',
    PICWISH_API_KEY: engine.apiKey,
    PICWISH_BASE_URL: engine.url,
    PICWISH_QPS: '20',
    PICWISH_TIMEOUT_MS: '5000',
  };
  gateways.push(...(await Promise.all([spawnGateway('a', env), spawnGateway('b', env)])));
}, 120_000);

afterAll(async () => {
  await Promise.all(gateways.map((gateway) => stopGateway(gateway)));
  await engine?.close();
  await s3?.stop();
  await database?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

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
    expect(engine.stats().creates).toBe(3);
  });
});
