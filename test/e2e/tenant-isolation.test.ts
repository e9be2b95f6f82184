import { describe, expect } from 'vitest';
import type { GraphQLErrorShape, TestStack } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import { bearer, mustGenerate, sseUntil, TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';
import { CANCEL, DELETE, SUBSCRIBE, TASK } from './tenant-operations.js';

/** Tenant isolation: a tenant cannot read, follow, cancel, delete, list or page through another tenant's tasks. */

const LIST = `query List($first: Int!, $after: String, $state: BackgroundTaskState) {
  backgroundTasks(first: $first, after: $after, state: $state) {
    edges { cursor node { id state } }
    pageInfo { hasNextPage endCursor }
  }
}`;

type Connection = {
  backgroundTasks: {
    edges: { cursor: string; node: { id: string; state: string } }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
};

const it = stackTest({
  // Tasks run for a minute, so they are still unfinished while the tests look at them.
  engine: { durationMs: 60_000 },
  env: { GATEWAY_API_KEYS: TWO_TENANT_KEYS, TENANT_MAX_ACTIVE_TASKS: '100' },
});

describe('task ownership', () => {
  const alpha = bearer(TENANTS.alpha);
  const beta = bearer(TENANTS.beta);

  it("reads another tenant's task as null, without an error", async ({ stack }) => {
    const id = await mustGenerate(stack, TENANTS.alpha);
    const mine = await stack.gql(TASK, { id }, alpha);
    expect(mine.body.data).toEqual({ backgroundTask: { id, state: expect.any(String) } });
    const theirs = await stack.gql(TASK, { id }, beta);
    expect(theirs.status).toBe(200);
    expect(theirs.body.errors).toBeUndefined();
    expect(theirs.body.data).toEqual({ backgroundTask: null });
  });

  it("answers a subscription to another tenant's task with NOT_FOUND on both SSE transports", async ({
    stack,
  }) => {
    const id = await mustGenerate(stack, TENANTS.alpha);
    const body = JSON.stringify({ query: SUBSCRIBE, variables: { id } });
    const done = (events: { event: string }[]) => events.some((e) => e.event === 'complete');
    const firstNext = (events: { event: string }[]) => events.some((e) => e.event === 'next');

    for (const path of ['/graphql', '/graphql/stream']) {
      const theirs = await sseUntil(`${stack.url}${path}`, { headers: beta, body }, done);
      expect(theirs.status).toBe(200);
      const next = theirs.events.find((e) => e.event === 'next')?.data as {
        data?: unknown;
        errors?: GraphQLErrorShape[];
      };
      expect(next.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(next.data ?? null).toBeNull();
      expect(theirs.events.at(-1)?.event).toBe('complete');

      const mine = await sseUntil(`${stack.url}${path}`, { headers: alpha, body }, firstNext);
      const snapshot = mine.events.find((e) => e.event === 'next')?.data as {
        data?: { backgroundTaskUpdated: { id: string } };
      };
      expect(snapshot.data?.backgroundTaskUpdated.id).toBe(id);
    }
  });

  it("answers a single-connection graphql-sse subscription to another tenant's task with NOT_FOUND", async ({
    stack,
  }) => {
    const id = await mustGenerate(stack, TENANTS.alpha);
    const reserved = await fetch(`${stack.url}/graphql/stream`, { method: 'PUT', headers: beta });
    const token = await reserved.text();
    const streaming = sseUntil(
      `${stack.url}/graphql/stream?token=${encodeURIComponent(token)}`,
      { method: 'GET', headers: beta },
      (events) => events.some((e) => e.event === 'complete'),
    );
    // The stream must be open before operations are accepted for it.
    const operation = await eventually202(() =>
      fetch(`${stack.url}/graphql/stream`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-graphql-event-stream-token': token, ...beta },
        body: JSON.stringify({ query: SUBSCRIBE, variables: { id }, extensions: { operationId: 'op1' } }),
      }),
    );
    expect(operation).toBe(202);
    const { events } = await streaming;
    const next = events.find((e) => e.event === 'next')?.data as {
      id: string;
      payload: { errors?: GraphQLErrorShape[] };
    };
    expect(next.id).toBe('op1');
    expect(next.payload.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it("refuses another tenant's single-connection stream token as unknown: no reading, no pushing", async ({
    stack,
  }) => {
    const reserved = await fetch(`${stack.url}/graphql/stream`, { method: 'PUT', headers: alpha });
    const token = await reserved.text();
    const again = await (
      await fetch(`${stack.url}/graphql/stream`, { method: 'PUT', headers: alpha })
    ).text();
    expect(again).not.toBe(token);

    const read = await fetch(`${stack.url}/graphql/stream?token=${encodeURIComponent(token)}`, {
      headers: { accept: 'text/event-stream', ...beta },
    });
    expect(read.status).toBe(404);
    await read.body?.cancel();
    const push = await fetch(`${stack.url}/graphql/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-graphql-event-stream-token': token, ...beta },
      body: JSON.stringify({ query: '{ __typename }', extensions: { operationId: 'x' } }),
    });
    expect(push.status).toBe(404);
    await push.body?.cancel();

    // The owner can still use it.
    const own = sseUntil(
      `${stack.url}/graphql/stream?token=${encodeURIComponent(token)}`,
      { method: 'GET', headers: alpha },
      (events) => events.some((e) => e.event === 'complete'),
    );
    const status = await eventually202(() =>
      fetch(`${stack.url}/graphql/stream`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-graphql-event-stream-token': token, ...alpha },
        body: JSON.stringify({ query: '{ __typename }', extensions: { operationId: 'mine' } }),
      }),
    );
    expect(status).toBe(202);
    const next = (await own).events.find((e) => e.event === 'next')?.data as { id: string; payload: unknown };
    expect(next).toEqual({ id: 'mine', payload: { data: { __typename: 'Query' } } });
  });

  it("cancels nothing and deletes nothing of another tenant's: cancel is null, delete is false", async ({
    stack,
  }) => {
    const id = await mustGenerate(stack, TENANTS.alpha);
    const cancel = await stack.gql(CANCEL, { id }, beta);
    expect(cancel.body).toEqual({ data: { cancelBackgroundTask: null } });
    const del = await stack.gql(DELETE, { id }, beta);
    expect(del.body).toEqual({ data: { deleteBackgroundTask: false } });

    const still = await stack.gql<{ backgroundTask: { state: string } }>(TASK, { id }, alpha);
    expect(still.body.data?.backgroundTask.state).not.toBe('CANCELLED');

    const own = await stack.gql<{ cancelBackgroundTask: { state: string } }>(CANCEL, { id }, alpha);
    expect(own.body.data?.cancelBackgroundTask.state).toBe('CANCELLED');
    const ownDelete = await stack.gql(DELETE, { id }, alpha);
    expect(ownDelete.body).toEqual({ data: { deleteBackgroundTask: true } });
    expect((await stack.gql(TASK, { id }, alpha)).body).toEqual({ data: { backgroundTask: null } });
  });

  it("lists only the caller's tasks, newest first, paging with after and filtering by state", async ({
    stack,
  }) => {
    // A fresh pair of tenants' view: record what exists, then add a known set.
    const before = await listAll(stack, alpha, null);
    const created: string[] = [];
    for (let i = 0; i < 3; i++) {
      created.push(await mustGenerate(stack, TENANTS.alpha));
      await mustGenerate(stack, TENANTS.beta);
    }
    const cancelled = created[1] as string;
    await stack.gql(CANCEL, { id: cancelled }, alpha);

    const all = await listAll(stack, alpha, null);
    expect(all.slice(0, 3)).toEqual([...created].reverse());
    expect(all.slice(3)).toEqual(before);

    const betaIds = new Set(await listAll(stack, beta, null));
    for (const id of all) expect(betaIds.has(id)).toBe(false);

    const first = await stack.gql<Connection>(LIST, { first: 2 }, alpha);
    const page1 = first.body.data?.backgroundTasks;
    expect(page1?.edges.map((e) => e.node.id)).toEqual([created[2], created[1]]);
    expect(page1?.pageInfo).toEqual({ hasNextPage: true, endCursor: created[1] });
    const second = await stack.gql<Connection>(LIST, { first: 1, after: page1?.pageInfo.endCursor }, alpha);
    expect(second.body.data?.backgroundTasks.edges.map((e) => e.node.id)).toEqual([created[0]]);

    const onlyCancelled = await listAll(stack, alpha, 'CANCELLED');
    expect(onlyCancelled).toContain(cancelled);
    expect(onlyCancelled).not.toContain(created[0]);
    expect(onlyCancelled).not.toContain(created[2]);
  });

  it("refuses another tenant's task id as a cursor as if it did not exist", async ({ stack }) => {
    const id = await mustGenerate(stack, TENANTS.alpha);
    const theirs = await stack.gql(LIST, { first: 5, after: id }, beta);
    expect(theirs.body.errors?.[0]?.extensions?.reason).toBe('INVALID_CURSOR');
    const unknown = await stack.gql(LIST, { first: 5, after: 'no-such-task' }, beta);
    expect(unknown.body.errors?.[0]?.message).toBe(theirs.body.errors?.[0]?.message);
  });

  it('keeps idempotency keys per tenant: the same key names different tasks for different tenants', async ({
    stack,
  }) => {
    const a1 = await mustGenerate(stack, TENANTS.alpha, 'order-42');
    const b1 = await mustGenerate(stack, TENANTS.beta, 'order-42');
    expect(b1).not.toBe(a1);
    expect(await mustGenerate(stack, TENANTS.alpha, 'order-42')).toBe(a1);
    expect(await mustGenerate(stack, TENANTS.beta, 'order-42')).toBe(b1);
  });
});

async function listAll(
  stack: TestStack,
  headers: Record<string, string>,
  state: string | null,
): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (;;) {
    const page: { body: { data?: Connection; errors?: GraphQLErrorShape[] } } = await stack.gql<Connection>(
      LIST,
      { first: 100, after, state },
      headers,
    );
    const connection = page.body.data?.backgroundTasks;
    if (!connection) throw new Error(JSON.stringify(page.body.errors));
    ids.push(...connection.edges.map((e) => e.node.id));
    if (!connection.pageInfo.hasNextPage) return ids;
    after = connection.pageInfo.endCursor;
  }
}

/** Retries a graphql-sse operation POST until the reserved stream is open (409 before that). */
async function eventually202(send: () => Promise<Response>): Promise<number> {
  const end = Date.now() + 10_000;
  for (;;) {
    const response = await send();
    await response.body?.cancel();
    if (response.status === 202 || Date.now() > end) return response.status;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
