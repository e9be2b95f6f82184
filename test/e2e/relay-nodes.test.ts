import { describe, expect } from 'vitest';
import type { TestStack } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import { bearer, mustGenerate, TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';

/**
 * Issue #15 item 4: `BackgroundTask` is a Relay `Node` whose global id is the task id it always
 * had; `node`/`nodes` find a tenant's own tasks only; `backgroundTasks` counts what it pages.
 */

const NODE = `query Node($id: ID!) {
  node(id: $id) { __typename id ... on BackgroundTask { state batchSize } }
}`;
const NODES = `query Nodes($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`;
const PAGE = `query Page($first: Int!, $after: String, $state: BackgroundTaskState) {
  backgroundTasks(first: $first, after: $after, state: $state) {
    totalCount
    edges { node { id } }
    pageInfo { endCursor hasNextPage }
  }
}`;

/** The Relay-standard form of a global id: what graphql-relay's `toGlobalId` makes. */
function relayForm(typename: string, id: string): string {
  return Buffer.from(`${typename}:${id}`).toString('base64');
}

interface Page {
  totalCount: number;
  edges: { node: { id: string } }[];
  pageInfo: { endCursor: string | null; hasNextPage: boolean };
}

async function ask<T>(stack: TestStack, query: string, variables: Record<string, unknown>, key: string) {
  const answer = await stack.gql<T>(query, variables, bearer(key));
  expect(answer.status).toBe(200);
  return answer.body;
}

async function page(stack: TestStack, key: string, variables: Record<string, unknown>): Promise<Page> {
  const body = await ask<{ backgroundTasks: Page }>(stack, PAGE, variables, key);
  if (!body.data) throw new Error(JSON.stringify(body));
  return body.data.backgroundTasks;
}

/** Five tasks of tenant alpha and one of beta, created before the file's first test reads them. */
const it = stackTest({
  // Long enough that nothing finishes while the counts are read.
  engine: { durationMs: 60_000 },
  env: { GATEWAY_API_KEYS: TWO_TENANT_KEYS },
}).extend<{ tasks: { alpha: string[]; beta: string } }>({
  tasks: [
    async ({ stack }, use) => {
      const alpha: string[] = [];
      for (let i = 0; i < 5; i += 1) alpha.push(await mustGenerate(stack, TENANTS.alpha));
      await use({ alpha, beta: await mustGenerate(stack, TENANTS.beta) });
    },
    { scope: 'file' },
  ],
});

describe('Relay nodes and totalCount', () => {
  it('reads an own task by its task id and by the Relay form of it, and another tenant’s as null', async ({
    stack,
    tasks,
  }) => {
    const { alpha } = tasks;
    const id = alpha[0] as string;
    for (const globalId of [id, relayForm('BackgroundTask', id)]) {
      const own = await ask<{ node: unknown }>(stack, NODE, { id: globalId }, TENANTS.alpha);
      expect(own).toEqual({
        data: { node: { __typename: 'BackgroundTask', id, state: expect.any(String), batchSize: 1 } },
      });
      // The same id read by another tenant is simply not there: no error that would reveal it.
      expect(await ask(stack, NODE, { id: globalId }, TENANTS.beta)).toEqual({ data: { node: null } });
    }
    // The global id is the id every other field takes, unchanged.
    const task = await ask<{ backgroundTask: { id: string } }>(
      stack,
      'query($id: ID!) { backgroundTask(id: $id) { id } }',
      { id },
      TENANTS.alpha,
    );
    expect(task.data?.backgroundTask.id).toBe(id);
  });

  it('answers nodes in order, with null for another tenant’s, unknown and malformed ids', async ({
    stack,
    tasks,
  }) => {
    const { alpha, beta: betaTask } = tasks;
    const ids = [
      alpha[1],
      betaTask,
      'not-an-id',
      '00000000-0000-4000-8000-000000000000',
      relayForm('GeneratedImage', 'x'),
      relayForm('Query', 'x'),
      relayForm('NoSuchType', alpha[2] as string),
      'Zm9v',
      '',
      relayForm('BackgroundTask', alpha[2] as string),
    ];
    const body = await ask<{ nodes: unknown[] }>(stack, NODES, { ids }, TENANTS.alpha);
    expect(body.errors).toBeUndefined();
    expect(body.data?.nodes).toEqual([
      { __typename: 'BackgroundTask', id: alpha[1] },
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      { __typename: 'BackgroundTask', id: alpha[2] },
    ]);
  });

  it('reads another tenant’s task as null in its Relay spelling too', async ({ stack, tasks }) => {
    const betaTask = tasks.beta;
    const body = await ask<{ nodes: unknown[] }>(
      stack,
      NODES,
      { ids: [relayForm('BackgroundTask', betaTask)] },
      TENANTS.alpha,
    );
    expect(body.errors).toBeUndefined();
    expect(body.data?.nodes).toEqual([null]);
  });

  it('refuses more than 100 ids in one nodes call', async ({ stack }) => {
    const ids = Array.from({ length: 101 }, (_, i) => `task-${i}`);
    const body = await ask(stack, NODES, { ids }, TENANTS.alpha);
    expect(body.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'TOO_MANY_IDS',
      field: 'ids',
    });
  });

  it('refuses an id named twice in one nodes call, saying how many repeat', async ({ stack, tasks }) => {
    const { alpha } = tasks;
    const body = await ask(stack, NODES, { ids: [alpha[0], alpha[1], alpha[0], alpha[0]] }, TENANTS.alpha);
    expect(body.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'REPEATED_IDS',
      field: 'ids',
    });
    expect(body.errors?.[0]?.message).toContain('2 of the ids given repeat an earlier one');
  });

  it('gives the same totalCount on every page, per tenant and per state', async ({ stack, tasks }) => {
    const { alpha } = tasks;
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const current: Page = await page(stack, TENANTS.alpha, { first: 2, after });
      expect(current.totalCount).toBe(5);
      seen.push(...current.edges.map((edge) => edge.node.id));
      if (!current.pageInfo.hasNextPage) break;
      after = current.pageInfo.endCursor;
    }
    expect(seen.sort()).toEqual([...alpha].sort());
    expect((await page(stack, TENANTS.beta, { first: 1 })).totalCount).toBe(1);

    const cancelled = await ask(
      stack,
      'mutation($id: ID!) { cancelBackgroundTask(id: $id) { state } }',
      { id: alpha[3] },
      TENANTS.alpha,
    );
    expect(cancelled).toEqual({ data: { cancelBackgroundTask: { state: 'CANCELLED' } } });
    const onlyCancelled = await page(stack, TENANTS.alpha, { first: 5, state: 'CANCELLED' });
    expect(onlyCancelled.totalCount).toBe(1);
    expect(onlyCancelled.edges.map((edge) => edge.node.id)).toEqual([alpha[3]]);
    expect((await page(stack, TENANTS.alpha, { first: 1 })).totalCount).toBe(5);
    expect((await page(stack, TENANTS.beta, { first: 1, state: 'CANCELLED' })).totalCount).toBe(0);
  });
});
