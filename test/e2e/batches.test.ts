import { afterAll, beforeAll, describe, expect } from 'vitest';
import {
  type BatchImages,
  batchDone,
  batchImages,
  getBatch,
  type Item,
  sendBatch,
  twentyWithThreeBad,
} from '../support/batch-ops.js';
import { paddedPng } from '../support/fixtures.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-db.js';
import { stackTest } from '../support/stack-test.js';
import { bearer, TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';

/** Issue #15 item 3: `generateBackgrounds`, `batch(id)` and per-item limits, against the local engine. */

let good: Buffer;
let opaqueJpeg: Buffer;
let tinyPng: Buffer;

beforeAll(async () => {
  const images: BatchImages = await batchImages();
  ({ good, opaqueJpeg, tinyPng } = images);
});

// A fresh gateway per test (the tests count what reached the engine), with each test's settings.
const it = stackTest({ engine: { durationMs: 300 } }, 'test');
const itTwoTenants = stackTest(
  { engine: { durationMs: 300 }, env: { GATEWAY_API_KEYS: TWO_TENANT_KEYS } },
  'test',
);
const itFivePerMinute = stackTest(
  { engine: { durationMs: 300 }, env: { TENANT_RATE_LIMIT_PER_MINUTE: '5' } },
  'test',
);
const itThreeActive = stackTest(
  { engine: { durationMs: 2_000 }, env: { TENANT_MAX_ACTIVE_TASKS: '3' } },
  'test',
);

describe('generateBackgrounds', () => {
  it('answers a batch of 20 uploads with 3 bad ones with 17 tasks and 3 precise problems at their indexes, and sends only the 17', async ({
    stack,
  }) => {
    const answer = await sendBatch(stack, twentyWithThreeBad(await batchImages()));
    expect(answer.errors).toBeUndefined();
    const { batch, results } = answer.data?.generateBackgrounds ?? { batch: null, results: [] };
    expect(results.map((r) => r.index)).toEqual([...Array(20).keys()]);
    expect(results.filter((r) => r.task !== null)).toHaveLength(17);
    const bad = results.filter((r) => r.task === null);
    expect(bad.map((r) => r.index)).toEqual([4, 9, 15]);
    expect(bad.map((r) => r.problems.map((p) => [p.code, p.reason, p.field]))).toEqual([
      [['BAD_USER_INPUT', 'NOT_PNG', 'inputs.4.image.file']],
      [['BAD_USER_INPUT', 'IMAGE_TOO_SMALL', 'inputs.9.image.file']],
      [['BAD_USER_INPUT', 'ONE_OF_VIOLATION', 'inputs.15.background']],
    ]);
    expect(new Set(results.flatMap((r) => (r.task ? [r.task.id] : []))).size).toBe(17);
    expect(batch?.counts).toMatchObject({ total: 20, accepted: 17, refused: 3, deleted: 0 });
    expect(batch?.tasks.map((task) => task.id)).toEqual(results.flatMap((r) => (r.task ? [r.task.id] : [])));
    expect(batch?.tasks.every((task) => task.batch?.id === batch.id)).toBe(true);

    const final = await batchDone(stack, batch?.id as string);
    expect(final.counts).toMatchObject({ total: 20, accepted: 17, refused: 3, succeeded: 17, queued: 0 });
    expect(stack.engine.stats().creates).toBe(17);
  });

  itTwoTenants(
    'reads another tenant’s batch as null — by batch(id) and by node(id) — and its own by id',
    async ({ stack }) => {
      const answer = await sendBatch(stack, [{ file: good }, { file: good }], { tenant: TENANTS.alpha });
      const id = answer.data?.generateBackgrounds.batch.id as string;
      expect(id).toBeTruthy();
      expect((await getBatch(stack, id, TENANTS.alpha))?.counts.accepted).toBe(2);
      expect(await getBatch(stack, id, TENANTS.beta)).toBeNull();
      expect(await getBatch(stack, 'no-such-batch', TENANTS.alpha)).toBeNull();
      const NODE =
        'query Node($id: ID!) { node(id: $id) { __typename id ... on BackgroundBatch { counts { total } } } }';
      const own = await stack.gql<{ node: { __typename: string; id: string } | null }>(
        NODE,
        { id },
        bearer(TENANTS.alpha),
      );
      expect(own.body.data?.node).toMatchObject({ __typename: 'BackgroundBatch', id, counts: { total: 2 } });
      const foreign = await stack.gql<{ node: unknown }>(NODE, { id }, bearer(TENANTS.beta));
      expect(foreign.body.data?.node).toBeNull();
      await batchDone(stack, id, TENANTS.alpha);
    },
  );

  itFivePerMinute(
    'counts items against the per-minute limit: a batch of 8 with 5 left gets 5 tasks and 3 RATE_LIMITED problems',
    async ({ stack }) => {
      const answer = await sendBatch(
        stack,
        Array.from({ length: 8 }, () => ({ file: good })),
      );
      const results = answer.data?.generateBackgrounds.results ?? [];
      expect(results.slice(0, 5).every((r) => r.task !== null)).toBe(true);
      for (const refused of results.slice(5)) {
        expect(refused.task).toBeNull();
        expect(refused.problems).toHaveLength(1);
        expect(refused.problems[0]).toMatchObject({ code: 'RATE_LIMITED', reason: null, field: null });
        expect(refused.problems[0]?.retryAfterSeconds).toBeGreaterThan(0);
      }
      const viewer = await stack.gql<{ viewer: { limits: { remainingThisMinute: number } } }>(
        'query { viewer { limits { remainingThisMinute } } }',
      );
      expect(viewer.body.data?.viewer.limits.remainingThisMinute).toBe(0);
      await batchDone(stack, answer.data?.generateBackgrounds.batch.id as string);
      expect(stack.engine.stats().creates).toBe(5);
    },
  );

  itThreeActive('counts items against the active-task limit', async ({ stack }) => {
    const answer = await sendBatch(
      stack,
      Array.from({ length: 5 }, () => ({ file: good })),
    );
    const results = answer.data?.generateBackgrounds.results ?? [];
    expect(results.map((r) => (r.task ? 'task' : r.problems[0]?.code))).toEqual([
      'task',
      'task',
      'task',
      'RATE_LIMITED',
      'RATE_LIMITED',
    ]);
    await batchDone(stack, answer.data?.generateBackgrounds.batch.id as string);
  });

  it('takes one multipart request whose files add up past Yoga’s 25 MB default (4 × 7 MB), each file streamed in turn', async ({
    stack,
  }) => {
    const large = await paddedPng(7 * 1024 * 1024, 1024, 1024);
    const answer = await sendBatch(
      stack,
      Array.from({ length: 4 }, () => ({ file: large })),
    );
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.generateBackgrounds.results.every((r) => r.task !== null)).toBe(true);
    await batchDone(stack, answer.data?.generateBackgrounds.batch.id as string);
    expect(stack.engine.stats().creates).toBe(4);
  });

  it('mixes uploads and URLs in one batch: a refused URL between two files leaves both files their tasks', async ({
    stack,
  }) => {
    const answer = await sendBatch(stack, [
      { file: good },
      { url: 'http://127.0.0.1:9/product.png' },
      { file: good },
    ]);
    const results = answer.data?.generateBackgrounds.results ?? [];
    expect(
      results.map((r) => (r.task ? 'task' : r.problems.map((p) => `${p.reason} ${p.field}`).join())),
    ).toEqual(['task', 'URL_NOT_ALLOWED inputs.1.image.url', 'task']);
    await batchDone(stack, answer.data?.generateBackgrounds.batch.id as string);
    expect(stack.engine.stats().creates).toBe(2);
  });

  it('refuses 51 inputs as a whole with INVALID_INPUT_COUNT and creates nothing', async ({ stack }) => {
    const items = Array.from({ length: 51 }, () => ({ url: 'http://127.0.0.1:9/product.png' }));
    const answer = await sendBatch(stack, items);
    expect(answer.data).toBeNull();
    expect(answer.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'INVALID_INPUT_COUNT',
      field: 'inputs',
    });
    expect(answer.errors?.[0]?.message).toMatch(/1 to 50 items; got 51/);
    expect((await sendBatch(stack, [])).errors?.[0]?.extensions?.reason).toBe('INVALID_INPUT_COUNT');
    expect(stack.engine.stats().creates).toBe(0);
  });

  it('replays a batch sent again with its idempotencyKey — same batch, same tasks, same problems, nothing sent twice — and refuses the key for other inputs', async ({
    stack,
  }) => {
    const items: Item[] = [{ file: good }, { file: tinyPng }, { file: good }];
    const first = await sendBatch(stack, items, { key: 'catalogue-42' });
    const again = await sendBatch(stack, items, { key: 'catalogue-42' });
    expect(again.errors).toBeUndefined();
    const a = first.data?.generateBackgrounds;
    const b = again.data?.generateBackgrounds;
    expect(b?.batch.id).toBe(a?.batch.id);
    expect(b?.results.map((r) => [r.task?.id ?? null, r.problems.map((p) => p.reason)])).toEqual(
      a?.results.map((r) => [r.task?.id ?? null, r.problems.map((p) => p.reason)]),
    );
    const other = await sendBatch(stack, [{ file: good }], { key: 'catalogue-42' });
    expect(other.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'IDEMPOTENCY_KEY_REUSED',
      field: 'idempotencyKey',
    });
    await batchDone(stack, a?.batch.id as string);
    expect(stack.engine.stats().creates).toBe(2);
  });
});

describe('generateBackgrounds on PostgreSQL', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.drop();
  });
  // The options are read when the gateway starts, after beforeAll made the database; per test, so
  // the gateway is closed before afterAll drops the database.
  const itOnPostgres = stackTest(
    () => ({
      engine: { durationMs: 300 },
      env: { DATABASE_URL: database.url, TENANT_RATE_LIMIT_PER_MINUTE: '4' },
    }),
    'test',
  );

  itOnPostgres(
    'stores the batch and its items’ batch, counts items against the limits, and replays by key',
    async ({ stack }) => {
      const items: Item[] = [
        { file: good },
        { file: opaqueJpeg },
        { file: good },
        { file: good },
        { file: good },
        { file: good },
      ];
      const answer = await sendBatch(stack, items, { key: 'pg-batch' });
      expect(answer.errors).toBeUndefined();
      const { batch, results } = answer.data?.generateBackgrounds ?? { batch: null, results: [] };
      // The refused JPEG was read and inspected: it counts toward the limit like a task (#27).
      expect(results.map((r) => (r.task ? 'task' : (r.problems[0]?.reason ?? r.problems[0]?.code)))).toEqual([
        'task',
        'NOT_PNG',
        'task',
        'task',
        'RATE_LIMITED',
        'RATE_LIMITED',
      ]);
      const final = await batchDone(stack, batch?.id as string);
      expect(final.counts).toMatchObject({ total: 6, accepted: 3, refused: 3, succeeded: 3 });
      expect(final.tasks.every((task) => task.batch?.id === batch?.id)).toBe(true);
      const again = await sendBatch(stack, items, { key: 'pg-batch' });
      expect(again.data?.generateBackgrounds.batch.id).toBe(batch?.id);
      expect(stack.engine.stats().creates).toBe(3);
    },
  );
});
