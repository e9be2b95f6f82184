import { print } from 'graphql';
import { aroundAll, describe, expect } from 'vitest';
import { ViewerUsageDocument, type ViewerUsageQuery } from '../generated/graphql.js';
import { generateUpload, productPhotoJpeg, transparentPng } from '../support/fixtures.js';
import { eventually, type TestStack, uploadOperation } from '../support/harness.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-db.js';
import { type StackOptions, stackTest } from '../support/stack-test.js';
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

type TaskIds = Record<'failed' | 'two' | 'one' | 'cancelled' | 'beta', string>;

async function create(stack: TestStack, png: Buffer, key: string, batch: number): Promise<string> {
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

async function state(stack: TestStack, key: string, id: string): Promise<string> {
  const answer = await stack.gql<{ backgroundTask: { state: string } }>(
    'query($id: ID!) { backgroundTask(id: $id) { state } }',
    { id },
    bearer(key),
  );
  return answer.body.data?.backgroundTask.state ?? 'missing';
}

async function usage(stack: TestStack, key: string, variables: Record<string, unknown> = {}): Promise<Usage> {
  const answer = await stack.gql<ViewerUsageQuery>(USAGE, variables, bearer(key));
  if (!answer.body.data) throw new Error(JSON.stringify(answer.body));
  return answer.body.data.viewer.usage;
}

async function creditsMetric(stack: TestStack): Promise<Record<string, number>> {
  const text = await (await fetch(`${stack.url}/metrics`, { headers: bearer(METRICS_TOKEN) })).text();
  const found: Record<string, number> = {};
  for (const match of text.matchAll(/^gateway_credits_charged_total\{tenant="([^"]+)"\} (\d+)$/gm)) {
    found[match[1] as string] = Number(match[2]);
  }
  return found;
}

/** The gateway's settings on either store; PostgreSQL's database URL is added below. */
function usageOptions(): StackOptions & { env: Record<string, string> } {
  return {
    engine: { durationMs: 1_500 },
    // A cutout price apart from the image price, so a figure that leaves it out shows.
    env: { GATEWAY_API_KEYS: TWO_TENANT_KEYS, METRICS_TOKEN, PICWISH_CUTOUT_CREDITS: '2' },
  };
}

/**
 * A gateway on the store `options` name, with the tasks the tests count, all finished, created
 * before the file's first test on it (`auto`): one failed, two succeeded, one cancelled (alpha), one of beta.
 */
function usageTest(options: StackOptions | (() => StackOptions)) {
  return stackTest(options).extend<{ tasks: { ids: TaskIds; createdFrom: string } }>({
    tasks: [
      async ({ stack }, use) => {
        const png = await transparentPng(400, 300);
        const ids: TaskIds = { failed: '', two: '', one: '', cancelled: '', beta: '' };
        const createdFrom = new Date().toISOString();
        // The engine fails the next task it accepts (upstream state -1): that one, created alone.
        stack.engine.faults.nextTaskStates.push(-1);
        ids.failed = await create(stack, png, TENANTS.alpha, 2);
        await eventually(
          async () => ((await state(stack, TENANTS.alpha, ids.failed)) === 'FAILED' ? true : undefined),
          30_000,
        );
        ids.two = await create(stack, png, TENANTS.alpha, 2);
        ids.one = await create(stack, png, TENANTS.alpha, 1);
        ids.cancelled = await create(stack, png, TENANTS.alpha, 2);
        const cancel = await stack.gql(
          'mutation($id: ID!) { cancelBackgroundTask(id: $id) { state } }',
          { id: ids.cancelled },
          bearer(TENANTS.alpha),
        );
        expect(cancel.body).toEqual({ data: { cancelBackgroundTask: { state: 'CANCELLED' } } });
        ids.beta = await create(stack, png, TENANTS.beta, 2);
        await eventually(async () => {
          const states = await Promise.all([
            ...[ids.two, ids.one].map((id) => state(stack, TENANTS.alpha, id)),
            state(stack, TENANTS.beta, ids.beta),
          ]);
          return states.every((each) => FINAL.has(each)) ? true : undefined;
        }, 60_000);
        await use({ ids, createdFrom });
      },
      // Every test reads figures these tasks make, whether or not it names them.
      { scope: 'file', auto: true },
    ],
  });
}

// PostgreSQL's gateway keeps its tasks in a throwaway database, whose URL exists once it is
// created. aroundAll rather than beforeAll/afterAll: the file's gateways close after its afterAll
// hooks, and the database must outlive the gateway using it.
let database: TestDatabase;
const onPostgres = (): StackOptions => {
  const options = usageOptions();
  return { ...options, env: { ...options.env, DATABASE_URL: database.url } };
};
aroundAll(async (runSuite) => {
  database = await createTestDatabase();
  try {
    await runSuite();
  } finally {
    await database.drop();
  }
});

const stores = [
  { name: 'SQLite', it: usageTest(usageOptions()) },
  { name: 'PostgreSQL', it: usageTest(onPostgres) },
];

describe.each(stores)('viewer.usage and credits in /metrics on $name', ({ it }) => {
  it('counts each tenant’s tasks by state, the images made and the credits they cost', async ({ stack }) => {
    expect(await usage(stack, TENANTS.alpha)).toMatchObject({
      tasksByState: { queued: 0, processing: 0, succeeded: 2, failed: 1, cancelled: 1, total: 4 },
      imagesGenerated: 3,
      creditsCharged: 9,
    });
    expect(await usage(stack, TENANTS.beta)).toMatchObject({
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

  it('counts the credits charged in /metrics by tenant name', async ({ stack }) => {
    expect(await creditsMetric(stack)).toEqual({ alpha: 9, beta: 6 });
  });

  it('defaults to the last 24 hours and counts only tasks created in [from, to)', async ({
    stack,
    tasks,
  }) => {
    const whole = await usage(stack, TENANTS.alpha);
    expect(Date.parse(whole.to) - Date.parse(whole.from)).toBe(24 * 60 * 60 * 1000);
    expect(Date.parse(whole.to)).toBeGreaterThan(Date.parse(tasks.createdFrom));

    const later = new Date(Date.parse(whole.to) + 1).toISOString();
    // Both ends given: `to` defaulting to now could fall within the same millisecond as `later`.
    const minuteLater = new Date(Date.parse(later) + 60_000).toISOString();
    expect((await usage(stack, TENANTS.alpha, { from: later, to: minuteLater })).tasksByState.total).toBe(0);
    expect((await usage(stack, TENANTS.alpha, { to: tasks.createdFrom })).tasksByState.total).toBe(0);
    expect(await usage(stack, TENANTS.alpha, { from: tasks.createdFrom, to: later })).toMatchObject({
      from: tasks.createdFrom,
      to: later,
      imagesGenerated: 3,
      tasksByState: { total: 4 },
    });
  });

  it('refuses a period that ends before it starts', async ({ stack, tasks }) => {
    const answer = await stack.gql(
      USAGE,
      { from: tasks.createdFrom, to: tasks.createdFrom },
      bearer(TENANTS.alpha),
    );
    expect(answer.body.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'INVALID_PERIOD',
      field: 'from',
    });
  });

  // Last: it adds to beta's figures, which the tests above read.
  it('adds to usage and /metrics what a removeBackground task says it was charged, cutout included', async ({
    stack,
  }) => {
    const [before, metricsBefore] = await Promise.all([usage(stack, TENANTS.beta), creditsMetric(stack)]);
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
    const [after, metricsAfter] = await Promise.all([usage(stack, TENANTS.beta), creditsMetric(stack)]);
    expect(after.creditsCharged - before.creditsCharged).toBe(5);
    expect((metricsAfter.beta ?? 0) - (metricsBefore.beta ?? 0)).toBe(5);
  });
});
