import { ApolloClient, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { fetchExchange, Client as UrqlClient } from '@urql/core';
import { describe, expect } from 'vitest';
import { batchImages, sendBatch } from '../support/batch-ops.js';
import { eventually, type TestStack } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import { GET_TASK } from '../support/task-ops.js';
import { mustGenerate, TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';

// Apollo's multipart HTTP subscriptions on /graphql (src/http/live/PROTOCOL.md), as Apollo Client 4's
// plain HttpLink and urql's fetchExchange speak them, and the 406 for an Accept nothing serves.

const FOLLOW_TASK =
  'subscription FollowTask($id: ID!) { backgroundTaskUpdated(id: $id) { id state progress } }';
const FOLLOW_BATCH = `subscription FollowBatch($id: ID!) {
  backgroundBatchUpdated(id: $id) { id done counts { total accepted succeeded } }
}`;
/** What Apollo Client 4's HttpLink sends for a subscription (STACK-NOTES). */
const APOLLO_ACCEPT =
  'multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/graphql-response+json,application/json;q=0.9';
const FINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

interface TaskUpdate {
  id: string;
  state: string;
  progress: number;
}
interface BatchUpdate {
  id: string;
  done: boolean;
  counts: { total: number; accepted: number; succeeded: number };
}

const it = stackTest({ env: { GATEWAY_API_KEYS: TWO_TENANT_KEYS } });

describe('Apollo multipart subscriptions on /graphql', () => {
  const auth = { authorization: `Bearer ${TENANTS.alpha}` };

  const batchOfThree = async (stack: TestStack) => {
    const { good } = await batchImages();
    const answer = await sendBatch(stack, [{ file: good }, { file: good }, { file: good }], {
      tenant: TENANTS.alpha,
    });
    const batch = answer.data?.generateBackgrounds.batch;
    if (!batch) throw new Error(`generateBackgrounds failed: ${JSON.stringify(answer.errors)}`);
    return batch.id;
  };

  it("follows a task and a batch to their end with Apollo Client 4's plain HttpLink", async ({ stack }) => {
    const client = new ApolloClient({
      cache: new InMemoryCache(),
      link: new HttpLink({ uri: `${stack.url}/graphql`, headers: auth }),
    });
    const follow = <T>(query: string, id: string) =>
      new Promise<T[]>((resolve, reject) => {
        const seen: T[] = [];
        client.subscribe<Record<string, T>>({ query: gql(query), variables: { id } }).subscribe({
          next: (result) => {
            if (result.error) reject(result.error);
            const value = result.data && Object.values(result.data)[0];
            if (value) seen.push(value as T);
          },
          error: reject,
          complete: () => resolve(seen),
        });
      });
    const [taskId, batchId] = await Promise.all([mustGenerate(stack, TENANTS.alpha), batchOfThree(stack)]);
    const [tasks, batches] = await Promise.all([
      follow<TaskUpdate>(FOLLOW_TASK, taskId),
      follow<BatchUpdate>(FOLLOW_BATCH, batchId),
    ]);
    expect(tasks.length).toBeGreaterThanOrEqual(2);
    expect(tasks.every((task) => task.id === taskId)).toBe(true);
    expect(tasks.at(-1)?.state).toBe('SUCCEEDED');
    expect(tasks.slice(0, -1).every((task) => !FINAL.has(task.state))).toBe(true);
    expect(batches.at(-1)).toMatchObject({ id: batchId, done: true, counts: { total: 3, succeeded: 3 } });
    expect(batches.slice(0, -1).every((batch) => !batch.done)).toBe(true);
  }, 120_000);

  // urql asks for `text/event-stream, multipart/mixed`: the gateway picks SSE, the first of equals.
  it.for<[string, Record<string, string>]>([
    ['its own Accept (SSE)', {}],
    ['Accept: multipart/mixed', { accept: 'multipart/mixed' }],
  ])(
    "follows a task and a batch to their end with urql's fetchExchange (fetchSubscriptions), %s",
    { timeout: 120_000 },
    async ([_name, accept], { stack }) => {
      const client = new UrqlClient({
        url: `${stack.url}/graphql`,
        exchanges: [fetchExchange],
        fetchSubscriptions: true,
        fetchOptions: { headers: { ...auth, ...accept } },
      });
      // urql's `subscribe` hands over results only, not the end of the stream: the last state ends the
      // wait. The gateway ends the stream after it; unsubscribing would abort a finished fetch.
      const follow = <T>(query: string, id: string, last: (value: T) => boolean) =>
        new Promise<T[]>((resolve, reject) => {
          const seen: T[] = [];
          client.subscription<Record<string, T>>(query, { id }).subscribe((result) => {
            if (result.error) reject(result.error);
            const value = result.data && Object.values(result.data)[0];
            if (!value) return;
            seen.push(value);
            if (last(value)) resolve(seen);
          });
        });
      const [taskId, batchId] = await Promise.all([mustGenerate(stack, TENANTS.alpha), batchOfThree(stack)]);
      const [tasks, batches] = await Promise.all([
        follow<TaskUpdate>(FOLLOW_TASK, taskId, (task) => FINAL.has(task.state)),
        follow<BatchUpdate>(FOLLOW_BATCH, batchId, (batch) => batch.done),
      ]);
      expect(tasks.at(-1)).toMatchObject({ id: taskId, state: 'SUCCEEDED' });
      expect(batches.at(-1)).toMatchObject({ id: batchId, done: true, counts: { succeeded: 3 } });
    },
  );

  it("frames a finished task as one part, then the closing boundary, in Apollo's multipart format", async ({
    stack,
  }) => {
    const id = await mustGenerate(stack, TENANTS.alpha);
    await eventually(async () => {
      const { body } = await stack.gql<{ backgroundTask: { state: string } }>(GET_TASK, { id }, auth);
      return body.data?.backgroundTask.state === 'SUCCEEDED' ? true : undefined;
    });
    const response = await fetch(`${stack.url}/graphql`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', accept: APOLLO_ACCEPT },
      body: JSON.stringify({
        query: 'subscription ($id: ID!) { backgroundTaskUpdated(id: $id) { id state } }',
        variables: { id },
      }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(
      'multipart/mixed;boundary="graphql";subscriptionSpec="1.0"',
    );
    const payload = { data: { backgroundTaskUpdated: { id, state: 'SUCCEEDED' } } };
    expect(await response.text()).toBe(
      `\r\n--graphql\r\ncontent-type: application/json; charset=utf-8\r\n\r\n${JSON.stringify({ payload })}\r\n--graphql--\r\n`,
    );
  });

  it("sends a task the caller cannot see as a NOT_FOUND part, and another tenant's too", async ({
    stack,
  }) => {
    const id = await mustGenerate(stack, TENANTS.alpha);
    const response = await fetch(`${stack.url}/graphql`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TENANTS.beta}`,
        'content-type': 'application/json',
        accept: APOLLO_ACCEPT,
      },
      body: JSON.stringify({ query: FOLLOW_TASK, variables: { id } }),
    });
    const text = await response.text();
    expect(text).toContain('"code":"NOT_FOUND"');
    expect(text).not.toContain('"state"');
    expect(text.endsWith('\r\n--graphql--\r\n')).toBe(true);
  });

  it('answers 406 with a JSON body naming the media types it serves', async ({ stack }) => {
    const subscription = await fetch(`${stack.url}/graphql`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query: FOLLOW_TASK, variables: { id: 'x' } }),
    });
    expect(subscription.status).toBe(406);
    const refused = (await subscription.json()) as {
      errors: { message: string; extensions: { code: string; accept: string[] } }[];
    };
    expect(refused.errors[0]?.extensions.code).toBe('NOT_ACCEPTABLE');
    expect(refused.errors[0]?.extensions.accept).toEqual([
      'text/event-stream',
      'multipart/mixed;subscriptionSpec="1.0"',
    ]);
    const query = await fetch(`${stack.url}/graphql`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', accept: 'image/png' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(query.status).toBe(406);
    const body = (await query.json()) as { errors: { extensions: { code: string; accept: string[] } }[] };
    expect(body.errors[0]?.extensions.code).toBe('NOT_ACCEPTABLE');
    expect(body.errors[0]?.extensions.accept).toContain('application/json');
  });

  it("answers a subscription document that does not validate as JSON errors Apollo's HttpLink reads", async ({
    stack,
  }) => {
    const response = await fetch(`${stack.url}/graphql`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', accept: APOLLO_ACCEPT },
      body: JSON.stringify({ query: 'subscription { backgroundTaskUpdated(id: "x") { noSuchField } }' }),
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('json');
    expect(JSON.stringify(await response.json())).toContain('noSuchField');
  });

  it("never subscribes in Yoga's own pipeline: a subscription inside a batch is refused with a fix", async ({
    stack,
  }) => {
    const response = await fetch(`${stack.url}/graphql`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify([{ query: FOLLOW_TASK, variables: { id: 'x' } }]),
    });
    const [answer] = (await response.json()) as {
      errors?: { message: string; extensions: { code: string } }[];
    }[];
    expect(answer?.errors?.[0]?.extensions.code).toBe('BAD_REQUEST');
    expect(answer?.errors?.[0]?.message).toContain('multipart/mixed');
  });

  it('answers a CORS preflight on both stream paths', async ({ stack }) => {
    for (const path of ['/graphql', '/graphql/stream']) {
      const preflight = await fetch(`${stack.url}${path}`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://shop.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type',
        },
      });
      expect({ path, status: preflight.status }).toEqual({ path, status: 204 });
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    }
  });

  it('serves a subscription whose body comes chunked (no Content-Length)', async ({ stack }) => {
    const id = await mustGenerate(stack, TENANTS.alpha);
    const bytes = new TextEncoder().encode(JSON.stringify({ query: FOLLOW_TASK, variables: { id } }));
    const response = await fetch(`${stack.url}/graphql`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', accept: APOLLO_ACCEPT },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(bytes);
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(response.headers.get('content-type')).toContain('multipart/mixed');
    const text = await response.text();
    expect(text).toContain('"state":"SUCCEEDED"');
    expect(text.endsWith('\r\n--graphql--\r\n')).toBe(true);
  });
});
