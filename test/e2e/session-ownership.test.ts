import { describe, expect } from 'vitest';
import { GET_BATCH, sendBatch } from '../support/batch-ops.js';
import { transparentPng } from '../support/fixtures.js';
import { eventually, type GraphQLErrorShape, type TestStack } from '../support/harness.js';
import { bearer, generate, mustGenerate, sseUntil, TENANTS } from '../support/tenancy.js';
import { codeOf, LIST, mint, SUBSCRIBE, sessionTest } from './session-stack.js';

/** Ownership by subject: each session sees, lists, follows, cancels and replays only its own user's tasks and batches. */

const TASK = 'query Task($id: ID!) { backgroundTask(id: $id) { id subject } }';
const STATE = 'query Task($id: ID!) { backgroundTask(id: $id) { state } }';
const NODES = 'query Nodes($ids: [ID!]!) { nodes(ids: $ids) { id } }';
const CANCEL = 'mutation Cancel($id: ID!) { cancelBackgroundTask(id: $id) { id state } }';
const DELETE = 'mutation Delete($id: ID!) { deleteBackgroundTask(id: $id) }';
const FOLLOW_BATCH = 'subscription Batch($id: ID!) { backgroundBatchUpdated(id: $id) { id done } }';

const it = sessionTest();

async function read(
  stack: TestStack,
  token: string,
  id: string,
): Promise<{ id: string; subject: string | null } | null> {
  const answer = await stack.gql<{ backgroundTask: { id: string; subject: string | null } | null }>(
    TASK,
    { id },
    bearer(token),
  );
  expect(answer.body.errors).toBeUndefined();
  return answer.body.data?.backgroundTask ?? null;
}

describe('ownership by subject', () => {
  let alice: string;
  let bob: string;
  let carol: string;
  let aliceTask: string;
  let bobTask: string;
  let serverTask: string;

  it.beforeAll(async ({ stack, idp }) => {
    alice = await mint(stack, 'alice');
    bob = await mint(stack, 'bob');
    carol = await idp.sign({ sub: 'carol' });
    aliceTask = await mustGenerate(stack, alice);
    bobTask = await mustGenerate(stack, bob);
    serverTask = await mustGenerate(stack, TENANTS.alpha);
  });

  it('records the subject on the task, null for a server key', async ({ stack }) => {
    expect(await read(stack, alice, aliceTask)).toEqual({ id: aliceTask, subject: 'alice' });
    expect(await read(stack, TENANTS.alpha, bobTask)).toEqual({ id: bobTask, subject: 'bob' });
    expect(await read(stack, TENANTS.alpha, serverTask)).toEqual({ id: serverTask, subject: null });
  });

  it('reads another subject’s task, and the server’s, as null — like another tenant’s', async ({ stack }) => {
    expect(await read(stack, alice, bobTask)).toBeNull();
    expect(await read(stack, alice, serverTask)).toBeNull();
    expect(await read(stack, bob, aliceTask)).toBeNull();
    // An identity provider's user of another tenant sees neither.
    expect(await read(stack, carol, aliceTask)).toBeNull();
    const nodes = await stack.gql<{ nodes: ({ id: string } | null)[] }>(
      NODES,
      { ids: [aliceTask, bobTask, serverTask] },
      bearer(alice),
    );
    expect(nodes.body.data?.nodes).toEqual([{ id: aliceTask }, null, null]);
  });

  it('lists only the session’s own tasks; a server key sees all and may filter by subject', async ({
    stack,
  }) => {
    const mine = await stack.gql<{
      backgroundTasks: { totalCount: number; edges: { node: { id: string } }[] };
    }>(LIST, {}, bearer(alice));
    const ids = mine.body.data?.backgroundTasks.edges.map((edge) => edge.node.id) ?? [];
    expect(ids).toContain(aliceTask);
    expect(ids).not.toContain(bobTask);
    expect(ids).not.toContain(serverTask);
    expect(mine.body.data?.backgroundTasks.totalCount).toBe(ids.length);
    // A session cannot widen its view by naming another subject.
    const widened = await stack.gql<{ backgroundTasks: { edges: { node: { id: string } }[] } }>(
      LIST,
      { subject: 'bob' },
      bearer(alice),
    );
    expect(widened.body.data?.backgroundTasks.edges.map((edge) => edge.node.id)).not.toContain(bobTask);

    const all = await stack.gql<{ backgroundTasks: { edges: { node: { id: string } }[] } }>(
      LIST,
      {},
      bearer(TENANTS.alpha),
    );
    const allIds = all.body.data?.backgroundTasks.edges.map((edge) => edge.node.id) ?? [];
    expect(allIds).toEqual(expect.arrayContaining([aliceTask, bobTask, serverTask]));
    const bobs = await stack.gql<{ backgroundTasks: { edges: { node: { id: string; subject: string } }[] } }>(
      LIST,
      { subject: 'bob' },
      bearer(TENANTS.alpha),
    );
    expect(bobs.body.data?.backgroundTasks.edges.map((edge) => edge.node.subject)).toEqual(['bob']);
  });

  it('refuses another subject’s task as a cursor', async ({ stack }) => {
    const answer = await stack.gql(LIST, { after: bobTask }, bearer(alice));
    expect(answer.body.errors?.[0]?.extensions?.reason).toBe('INVALID_CURSOR');
  });

  it('cannot cancel or delete another subject’s task', async ({ stack }) => {
    const cancel = await stack.gql<{ cancelBackgroundTask: unknown }>(CANCEL, { id: bobTask }, bearer(alice));
    expect(cancel.body.data?.cancelBackgroundTask ?? null).toBeNull();
    const remove = await stack.gql<{ deleteBackgroundTask: boolean }>(DELETE, { id: bobTask }, bearer(alice));
    expect(remove.body.data?.deleteBackgroundTask).toBe(false);
    expect(await read(stack, bob, bobTask)).toEqual({ id: bobTask, subject: 'bob' });
  });

  it('answers a subscription to another subject’s task with NOT_FOUND on both SSE paths', async ({
    stack,
  }) => {
    const body = JSON.stringify({ query: SUBSCRIBE, variables: { id: bobTask } });
    for (const path of ['/graphql', '/graphql/stream']) {
      const theirs = await sseUntil(`${stack.url}${path}`, { headers: bearer(alice), body }, (events) =>
        events.some((e) => e.event === 'complete'),
      );
      const next = theirs.events.find((e) => e.event === 'next')?.data as { errors?: GraphQLErrorShape[] };
      expect(codeOf(next.errors)).toBe('NOT_FOUND');
      const mine = await sseUntil(`${stack.url}${path}`, { headers: bearer(bob), body }, (events) =>
        events.some((e) => e.event === 'next'),
      );
      const snapshot = mine.events.find((e) => e.event === 'next')?.data as {
        data?: { backgroundTaskUpdated: { id: string } };
      };
      expect(snapshot.data?.backgroundTaskUpdated.id).toBe(bobTask);
    }
  });

  it('never answers a finished task from another subject’s cached read', async ({ stack }) => {
    await eventually(async () => {
      const task = await stack.gql<{ backgroundTask: { state: string } }>(
        STATE,
        { id: bobTask },
        bearer(bob),
      );
      return task.body.data?.backgroundTask.state === 'SUCCEEDED' ? true : undefined;
    }, 30_000);
    // Read twice as bob (the second from the cache), then the same bytes as alice.
    expect(await read(stack, bob, bobTask)).not.toBeNull();
    expect(await read(stack, bob, bobTask)).not.toBeNull();
    expect(await read(stack, alice, bobTask)).toBeNull();
  });

  it('keeps idempotency keys per subject: the same key makes each end user their own task', async ({
    stack,
  }) => {
    const first = await generate(stack, alice, 'order-1');
    const again = await generate(stack, alice, 'order-1');
    const other = await generate(stack, bob, 'order-1');
    expect(first.id).not.toBeNull();
    expect(again.id).toBe(first.id);
    expect(other.id).not.toBeNull();
    expect(other.id).not.toBe(first.id);
    expect(await read(stack, bob, other.id as string)).toMatchObject({ subject: 'bob' });
  });

  it('keeps batches to their subject, for reads and for the batch subscription', async ({ stack }) => {
    const png = await transparentPng(400, 300);
    const sent = await sendBatch(stack, [{ file: png }, { file: png }], { tenant: alice });
    const batch = (sent as { data?: { generateBackgrounds: { batch: { id: string } } } }).data
      ?.generateBackgrounds.batch;
    expect(batch?.id).toBeTruthy();
    const id = batch?.id as string;
    const mine = await stack.gql<{ batch: { id: string } | null }>(GET_BATCH, { id }, bearer(alice));
    expect(mine.body.data?.batch?.id).toBe(id);
    const theirs = await stack.gql<{ batch: unknown }>(GET_BATCH, { id }, bearer(bob));
    expect(theirs.body.data?.batch ?? null).toBeNull();
    const server = await stack.gql<{ batch: { id: string } | null }>(
      GET_BATCH,
      { id },
      bearer(TENANTS.alpha),
    );
    expect(server.body.data?.batch?.id).toBe(id);
    const followed = await sseUntil(
      `${stack.url}/graphql`,
      { headers: bearer(bob), body: JSON.stringify({ query: FOLLOW_BATCH, variables: { id } }) },
      (events) => events.some((e) => e.event === 'complete'),
    );
    const next = followed.events.find((e) => e.event === 'next')?.data as { errors?: GraphQLErrorShape[] };
    expect(codeOf(next.errors)).toBe('NOT_FOUND');
  });
});
