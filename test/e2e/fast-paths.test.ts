import { describe, expect } from 'vitest';
import { batchDone, batchImages, sendBatch } from '../support/batch-ops.js';
import { eventually, readSse, type TestStack } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import { bearer, mustGenerate, TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';

// The fast paths of src/http/live/ (shared executions, the read cache) must answer exactly what Yoga answers.

const TASK =
  'query Task($id: ID!) { backgroundTask(id: $id) { id state progress images { url width height } } }';
const FOLLOW =
  'subscription Follow($id: ID!) { backgroundTaskUpdated(id: $id) { id state progress queuePosition images { width } } }';
const DELETE = 'mutation Delete($id: ID!) { deleteBackgroundTask(id: $id) }';

async function post(stack: TestStack, body: unknown, headers: Record<string, string>) {
  const response = await fetch(`${stack.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, text: await response.text(), type: response.headers.get('content-type') };
}

const it = stackTest({ env: { GATEWAY_API_KEYS: TWO_TENANT_KEYS } });

describe('fast paths', () => {
  const alpha = bearer(TENANTS.alpha);
  const beta = bearer(TENANTS.beta);

  it('answers repeated reads of a finished task as Yoga did, per tenant, and null once it is deleted', async ({
    stack,
  }) => {
    const id = await mustGenerate(stack, TENANTS.alpha);
    const read = { query: TASK, variables: { id }, operationName: 'Task' };
    await eventually(async () => {
      const answer = await post(stack, read, alpha);
      return answer.text.includes('"SUCCEEDED"') ? answer : undefined;
    });
    const first = await post(stack, read, alpha);
    const again = await post(stack, read, alpha);
    expect(again).toEqual(first);
    expect(JSON.parse(again.text).data.backgroundTask.images).toHaveLength(1);
    // Another tenant asking the same bytes does not get alpha's answer.
    expect(JSON.parse((await post(stack, read, beta)).text).data.backgroundTask).toBeNull();
    const deleted = await post(stack, { query: DELETE, variables: { id } }, alpha);
    expect(JSON.parse(deleted.text).data.deleteBackgroundTask).toBe(true);
    expect(JSON.parse((await post(stack, read, alpha)).text).data.backgroundTask).toBeNull();
  });

  it('reads a finished task’s batch fresh: its counts move when another task of the batch is deleted', async ({
    stack,
  }) => {
    const { good } = await batchImages();
    const sent = await sendBatch(stack, [{ file: good }, { file: good }], { tenant: TENANTS.alpha });
    const batch = sent.data?.generateBackgrounds.batch;
    const [kept, removed] = batch?.tasks.map((task) => task.id) ?? [];
    await batchDone(stack, batch?.id as string, TENANTS.alpha);
    const read = {
      query: 'query Task($id: ID!) { backgroundTask(id: $id) { id state batch { counts { deleted } } } }',
      variables: { id: kept },
      operationName: 'Task',
    };
    const deletedCount = async () =>
      JSON.parse((await post(stack, read, alpha)).text).data.backgroundTask.batch.counts.deleted as number;
    expect(await deletedCount()).toBe(0);
    expect(await deletedCount()).toBe(0);
    const deleted = await post(stack, { query: DELETE, variables: { id: removed } }, alpha);
    expect(JSON.parse(deleted.text).data.deleteBackgroundTask).toBe(true);
    expect(await deletedCount()).toBe(1);
  });

  it('streams the same events to later subscribers of a task as Yoga streams to the first', async ({
    stack,
  }) => {
    const id = await mustGenerate(stack, TENANTS.alpha);
    const body = JSON.stringify({ query: FOLLOW, variables: { id }, operationName: 'Follow' });
    const open = () => readSse(`${stack.url}/graphql`, { headers: alpha, body });
    const first = open();
    await new Promise((resolve) => setTimeout(resolve, 400));
    const later = await Promise.all([open(), open(), open()]);
    const yoga = await first;
    expect(yoga.status).toBe(200);
    expect(yoga.events.at(-1)?.event).toBe('complete');
    const yogaNext = yoga.events.filter((e) => e.event === 'next').map((e) => JSON.stringify(e.data));
    for (const stream of later) {
      expect(stream.status).toBe(200);
      expect(stream.events.at(-1)?.event).toBe('complete');
      const next = stream.events.filter((e) => e.event === 'next').map((e) => JSON.stringify(e.data));
      // A later subscriber starts from the snapshot at its time, then sees what everybody sees.
      expect(next.slice(1)).toEqual(yogaNext.slice(yogaNext.length - (next.length - 1)));
      expect(next.at(-1)).toContain('"SUCCEEDED"');
    }
    // A task of another tenant is still NOT_FOUND for a document the shortcut already knows.
    const foreign = await readSse(`${stack.url}/graphql`, { headers: beta, body });
    const refused = foreign.events.find((e) => e.event === 'next')?.data as {
      errors?: { extensions?: { code?: string } }[];
    };
    expect(refused?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});
