import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ViewerUsageDocument, type ViewerUsageQuery } from '../generated/graphql.js';
import { generateUpload, productPhotoJpeg, transparentPng } from '../support/fixtures.js';
import { eventually, startStack, type TestStack, uploadOperation } from '../support/harness.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-db.js';
import { bearer, TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';

/**
 * Issue #15 item 5: `viewer.usage` reports what a tenant's tasks came to, counted in the store
 * (SQLite, and PostgreSQL with DATABASE_URL), and /metrics counts the credits by tenant.
 */

/** The typed document from test/operations/tasks.graphql (`npm run codegen`). */
const USAGE = print(ViewerUsageDocument);

type Usage = ViewerUsageQuery['viewer']['usage'];

/** Keys make /metrics an operator's read: it names every tenant. */
const METRICS_TOKEN = 'usage-test-metrics-token-0123456789';
const FINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

const stores: {
  name: string;
  env: () => Promise<{ env: Record<string, string>; dispose(): Promise<void> }>;
}[] = [
  { name: 'SQLite', env: async () => ({ env: {}, dispose: async () => {} }) },
  {
    name: 'PostgreSQL',
    env: async () => {
      const database: TestDatabase = await createTestDatabase();
      return { env: { DATABASE_URL: database.url }, dispose: () => database.drop() };
    },
  },
];

describe.each(stores)('viewer.usage and credits in /metrics on $name', ({ env }) => {
  let stack: TestStack;
  let dispose: () => Promise<void>;
  let png: Buffer;
  let createdFrom: string;
  const ids: Record<'failed' | 'two' | 'one' | 'cancelled' | 'beta', string> = {
    failed: '',
    two: '',
    one: '',
    cancelled: '',
    beta: '',
  };

  async function create(key: string, batch: number): Promise<string> {
    const answer = await uploadOperation(
      stack.url,
      generateUpload(),
      { file: null, batch },
      { variablePath: 'variables.file', bytes: png },
      { 'apollo-require-preflight': 'true', ...bearer(key) },
    );
    const id = (answer.body.data?.generateBackground as { id?: string } | undefined)?.id;
    if (!id) throw new Error(JSON.stringify(answer.body));
    return id;
  }

  async function state(key: string, id: string): Promise<string> {
    const answer = await stack.gql<{ backgroundTask: { state: string } }>(
      'query($id: ID!) { backgroundTask(id: $id) { state } }',
      { id },
      bearer(key),
    );
    return answer.body.data?.backgroundTask.state ?? 'missing';
  }

  async function usage(key: string, variables: Record<string, unknown> = {}): Promise<Usage> {
    const answer = await stack.gql<ViewerUsageQuery>(USAGE, variables, bearer(key));
    if (!answer.body.data) throw new Error(JSON.stringify(answer.body));
    return answer.body.data.viewer.usage;
  }

  async function creditsMetric(): Promise<Record<string, number>> {
    const text = await (await fetch(`${stack.url}/metrics`, { headers: bearer(METRICS_TOKEN) })).text();
    const found: Record<string, number> = {};
    for (const match of text.matchAll(/^gateway_credits_charged_total\{tenant="([^"]+)"\} (\d+)$/gm)) {
      found[match[1] as string] = Number(match[2]);
    }
    return found;
  }

  beforeAll(async () => {
    const chosen = await env();
    dispose = chosen.dispose;
    png = await transparentPng(400, 300);
    stack = await startStack({
      engine: { durationMs: 1_500 },
      // A cutout price apart from the image price, so a figure that leaves it out shows.
      env: { GATEWAY_API_KEYS: TWO_TENANT_KEYS, METRICS_TOKEN, PICWISH_CUTOUT_CREDITS: '2', ...chosen.env },
    });
    createdFrom = new Date().toISOString();
    // The engine fails the next task it accepts (upstream state -1): that one, created alone.
    stack.engine.faults.nextTaskStates.push(-1);
    ids.failed = await create(TENANTS.alpha, 2);
    await eventually(
      async () => ((await state(TENANTS.alpha, ids.failed)) === 'FAILED' ? true : undefined),
      30_000,
    );
    ids.two = await create(TENANTS.alpha, 2);
    ids.one = await create(TENANTS.alpha, 1);
    ids.cancelled = await create(TENANTS.alpha, 2);
    const cancel = await stack.gql(
      'mutation($id: ID!) { cancelBackgroundTask(id: $id) { state } }',
      { id: ids.cancelled },
      bearer(TENANTS.alpha),
    );
    expect(cancel.body).toEqual({ data: { cancelBackgroundTask: { state: 'CANCELLED' } } });
    ids.beta = await create(TENANTS.beta, 2);
    await eventually(async () => {
      const states = await Promise.all([
        ...[ids.two, ids.one].map((id) => state(TENANTS.alpha, id)),
        state(TENANTS.beta, ids.beta),
      ]);
      return states.every((each) => FINAL.has(each)) ? true : undefined;
    }, 60_000);
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
    await dispose?.();
  });

  it('counts each tenant’s tasks by state, the images made and the credits they cost', async () => {
    expect(await usage(TENANTS.alpha)).toMatchObject({
      tasksByState: { queued: 0, processing: 0, succeeded: 2, failed: 1, cancelled: 1, total: 4 },
      imagesGenerated: 3,
      creditsCharged: 9,
    });
    expect(await usage(TENANTS.beta)).toMatchObject({
      tasksByState: { queued: 0, processing: 0, succeeded: 1, failed: 0, cancelled: 0, total: 1 },
      imagesGenerated: 2,
      creditsCharged: 6,
    });
    // The period's credits are the sum of what its tasks say they were charged.
    const page = await stack.gql<{ backgroundTasks: { edges: { node: { creditsCharged: number } }[] } }>(
      'query { backgroundTasks(first: 10) { edges { node { creditsCharged } } } }',
      {},
      bearer(TENANTS.alpha),
    );
    const charged = page.body.data?.backgroundTasks.edges.map((edge) => edge.node.creditsCharged);
    expect(charged?.reduce((sum, n) => sum + n, 0)).toBe(9);
  });

  it('counts the credits charged in /metrics by tenant name', async () => {
    expect(await creditsMetric()).toEqual({ alpha: 9, beta: 6 });
  });

  it('defaults to the last 24 hours and counts only tasks created in [from, to)', async () => {
    const whole = await usage(TENANTS.alpha);
    expect(Date.parse(whole.to) - Date.parse(whole.from)).toBe(24 * 60 * 60 * 1000);
    expect(Date.parse(whole.to)).toBeGreaterThan(Date.parse(createdFrom));

    const later = new Date(Date.parse(whole.to) + 1).toISOString();
    // Both ends given: `to` defaulting to now could fall within the same millisecond as `later`.
    const minuteLater = new Date(Date.parse(later) + 60_000).toISOString();
    expect((await usage(TENANTS.alpha, { from: later, to: minuteLater })).tasksByState.total).toBe(0);
    expect((await usage(TENANTS.alpha, { to: createdFrom })).tasksByState.total).toBe(0);
    expect(await usage(TENANTS.alpha, { from: createdFrom, to: later })).toMatchObject({
      from: createdFrom,
      to: later,
      imagesGenerated: 3,
      tasksByState: { total: 4 },
    });
  });

  it('refuses a period that ends before it starts', async () => {
    const answer = await stack.gql(USAGE, { from: createdFrom, to: createdFrom }, bearer(TENANTS.alpha));
    expect(answer.body.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'INVALID_PERIOD',
      field: 'from',
    });
  });

  // Last: it adds to beta's figures, which the tests above read.
  it('adds to usage and /metrics what a removeBackground task says it was charged, cutout included', async () => {
    const [before, metricsBefore] = await Promise.all([usage(TENANTS.beta), creditsMetric()]);
    const answer = await uploadOperation(
      stack.url,
      `mutation($file: Upload!) { generateBackground(input: {
        image: { file: $file }, background: { prompt: "oak table" }, batchSize: 1, removeBackground: true
      }) { id } }`,
      { file: null },
      { variablePath: 'variables.file', bytes: await productPhotoJpeg(), name: 'photo.jpg' },
      { 'apollo-require-preflight': 'true', ...bearer(TENANTS.beta) },
    );
    const id = (answer.body.data?.generateBackground as { id?: string } | undefined)?.id as string;
    const task = await eventually(async () => {
      const read = await stack.gql<{ backgroundTask: { state: string; creditsCharged: number | null } }>(
        'query($id: ID!) { backgroundTask(id: $id) { state creditsCharged } }',
        { id },
        bearer(TENANTS.beta),
      );
      const found = read.body.data?.backgroundTask;
      return found && FINAL.has(found.state) ? found : undefined;
    }, 60_000);
    // One image at 3 credits and the cutout at PICWISH_CUTOUT_CREDITS.
    expect(task).toEqual({ state: 'SUCCEEDED', creditsCharged: 5 });
    const [after, metricsAfter] = await Promise.all([usage(TENANTS.beta), creditsMetric()]);
    expect(after.creditsCharged - before.creditsCharged).toBe(5);
    expect((metricsAfter.beta ?? 0) - (metricsBefore.beta ?? 0)).toBe(5);
  });
});
