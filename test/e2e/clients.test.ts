import { ApolloClient, ApolloLink, InMemoryCache } from '@apollo/client';
import { isSubscriptionOperation } from '@apollo/client/utilities';
import { fetchExchange, subscriptionExchange, Client as UrqlClient } from '@urql/core';
import UploadHttpLink from 'apollo-upload-client/UploadHttpLink.mjs';
import { type ExecutionResult, print } from 'graphql';
import { createClient as createSseClient, type Client as SseClient } from 'graphql-sse';
import { Observable } from 'rxjs';
import { beforeAll, describe, expect } from 'vitest';
import {
  FollowTaskDocument,
  type FollowTaskSubscription,
  GenerateFromFileDocument,
  type GenerateFromFileMutation,
  SceneTypesDocument,
  TaskNodeDocument,
} from '../generated/graphql.js';
import { transparentPng } from '../support/fixtures.js';
import { uploadOperation } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';

/**
 * The gateway with the client libraries a frontend would really use, over real HTTP: each one
 * creates a task and follows it to SUCCEEDED with the typed documents from `npm run codegen`.
 */

type FollowedTask = FollowTaskSubscription['backgroundTaskUpdated'];

const FINAL_STATES = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
const PROMPT = 'white marble counter, soft daylight';
const FOLLOW_TIMEOUT_MS = 60_000;

const it = stackTest({ engine: { durationMs: 1_000 } });
let png: Buffer;

beforeAll(async () => {
  png = await transparentPng(512, 384);
}, 60_000);

function pngFile(): File {
  return new File([new Uint8Array(png)], 'foreground.png', { type: 'image/png' });
}

/**
 * Collects the task updates of one subscription until it completes (or fails, or takes too long).
 * `start` subscribes with the given callbacks and returns the unsubscribe function.
 */
function collectUpdates(
  start: (sink: {
    next: (result: ExecutionResult<FollowTaskSubscription> | { data?: unknown; error?: unknown }) => void;
    error: (error: unknown) => void;
    complete: () => void;
  }) => () => void,
): Promise<FollowedTask[]> {
  return new Promise((resolve, reject) => {
    const tasks: FollowedTask[] = [];
    let unsubscribe: (() => void) | null = null;
    const timer = setTimeout(() => {
      unsubscribe?.();
      reject(new Error(`no completion within ${FOLLOW_TIMEOUT_MS} ms; states: ${states(tasks).join(' → ')}`));
    }, FOLLOW_TIMEOUT_MS);
    let finished = false;
    const finish = (error?: unknown) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      setImmediate(() => unsubscribe?.());
      if (error) reject(error);
      else resolve(tasks);
    };
    unsubscribe = start({
      next: (result) => {
        const problem =
          ('errors' in result && result.errors?.length ? result.errors : null) ??
          ('error' in result ? result.error : null);
        if (problem) return finish(new Error(`subscription error: ${JSON.stringify(problem)}`));
        const task = (result.data as FollowTaskSubscription | null | undefined)?.backgroundTaskUpdated;
        if (task) tasks.push(task);
      },
      error: (error) => finish(error instanceof Error ? error : new Error(JSON.stringify(error))),
      complete: () => finish(),
    });
  });
}

function states(tasks: readonly FollowedTask[]): string[] {
  return tasks.map((task) => task.state).filter((state, i, all) => i === 0 || all[i - 1] !== state);
}

/** What every client must end with: a SUCCEEDED task with two stored images behind working links. */
async function expectSucceededWithImages(tasks: readonly FollowedTask[], id: string): Promise<void> {
  expect(tasks.length).toBeGreaterThan(0);
  expect(tasks.every((task) => task.id === id)).toBe(true);
  const last = tasks.at(-1)!;
  expect(last.state, `states: ${states(tasks).join(' → ')}`).toBe('SUCCEEDED');
  expect(last.progress).toBe(100);
  const progress = tasks.map((task) => task.progress);
  expect(progress).toEqual([...progress].sort((a, b) => a - b));
  expect(last.images).toHaveLength(2);
  for (const image of last.images) {
    const response = await fetch(image.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(image.contentType);
    expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(0);
  }
}

/** A terminating Apollo link that sends subscriptions over graphql-sse. */
function sseLink(client: SseClient): ApolloLink {
  return new ApolloLink(
    (operation) =>
      new Observable<ApolloLink.Result>((observer) =>
        client.subscribe(
          {
            query: print(operation.query),
            variables: operation.variables,
            ...(operation.operationName ? { operationName: operation.operationName } : {}),
          },
          {
            next: (result) => observer.next(result as ApolloLink.Result),
            error: (error) => observer.error(error),
            complete: () => observer.complete(),
          },
        ),
      ),
  );
}

describe('Apollo Client 4', () => {
  it('uploads with UploadHttpLink, follows the task over a graphql-sse link to SUCCEEDED and reads it again as a node', async ({
    stack,
  }) => {
    const sse = createSseClient({ url: `${stack.url}/graphql/stream`, fetchFn: fetch, retryAttempts: 0 });
    const client = new ApolloClient({
      // What docs/clients.md tells Apollo users, so that fragments on Node's types match.
      cache: new InMemoryCache({ possibleTypes: { Node: ['BackgroundTask', 'BackgroundBatch'] } }),
      link: ApolloLink.split(
        ({ query }) => isSubscriptionOperation(query),
        sseLink(sse),
        new UploadHttpLink({ uri: `${stack.url}/graphql`, headers: { 'apollo-require-preflight': 'true' } }),
      ),
    });
    try {
      const templates = await client.query({ query: SceneTypesDocument });
      expect(templates.data?.sceneTypes.length).toBeGreaterThan(0);

      const created = await client.mutate({
        mutation: GenerateFromFileDocument,
        variables: { file: pngFile(), prompt: PROMPT },
      });
      expect(created.error).toBeUndefined();
      const task = (created.data as GenerateFromFileMutation).generateBackground;
      expect(task.state).toBe('QUEUED');

      const updates = await collectUpdates((sink) => {
        const subscription = client
          .subscribe({ query: FollowTaskDocument, variables: { id: task.id } })
          .subscribe(sink);
        return () => subscription.unsubscribe();
      });
      await expectSucceededWithImages(updates, task.id);

      const viaNode = await client.query({ query: TaskNodeDocument, variables: { id: task.id } });
      expect(viaNode.data?.node).toMatchObject({
        __typename: 'BackgroundTask',
        id: task.id,
        state: 'SUCCEEDED',
      });
      // One cache entry per task whichever field read it: Apollo keys by __typename and id, and the
      // global id is the task id.
      const cache = client.cache.extract() as Record<string, Record<string, unknown>>;
      expect(cache[`BackgroundTask:${task.id}`]).toMatchObject({ state: 'SUCCEEDED', progress: 100 });
      expect(cache.ROOT_QUERY?.[`node({"id":"${task.id}"})`]).toEqual({ __ref: `BackgroundTask:${task.id}` });
    } finally {
      client.stop();
      sse.dispose();
    }
  }, 120_000);
});

describe('urql', () => {
  it('uploads with fetchExchange and follows the task through a graphql-sse subscriptionExchange to SUCCEEDED', async ({
    stack,
  }) => {
    const sse = createSseClient({ url: `${stack.url}/graphql/stream`, fetchFn: fetch, retryAttempts: 0 });
    const client = new UrqlClient({
      url: `${stack.url}/graphql`,
      fetchOptions: { headers: { 'apollo-require-preflight': 'true' } },
      exchanges: [
        fetchExchange,
        subscriptionExchange({
          forwardSubscription(request) {
            const input = { ...request, query: request.query ?? '' };
            return {
              subscribe(sink) {
                const unsubscribe = sse.subscribe(input, sink);
                return { unsubscribe };
              },
            };
          },
        }),
      ],
    });
    try {
      const created = await client
        .mutation(GenerateFromFileDocument, { file: pngFile(), prompt: PROMPT })
        .toPromise();
      expect(created.error).toBeUndefined();
      const task = created.data!.generateBackground;
      expect(task.state).toBe('QUEUED');

      const updates = await collectUpdates((sink) => {
        // urql's `subscribe` hands over results only, not the end of the stream: a final state ends the wait.
        const subscription = client.subscription(FollowTaskDocument, { id: task.id }).subscribe((result) => {
          sink.next(result);
          const state = result.data?.backgroundTaskUpdated.state;
          if (state && FINAL_STATES.has(state)) sink.complete();
        });
        return () => subscription.unsubscribe();
      });
      await expectSucceededWithImages(updates, task.id);
    } finally {
      sse.dispose();
    }
  }, 120_000);
});

describe.each([
  { mode: 'single connection', singleConnection: true },
  { mode: 'distinct connections', singleConnection: false },
])('graphql-sse client ($mode) at /graphql/stream', ({ singleConnection }) => {
  it('follows an uploaded task to SUCCEEDED', async ({ stack }) => {
    const created = await uploadOperation(
      stack.url,
      print(GenerateFromFileDocument),
      { file: null, prompt: PROMPT },
      { variablePath: 'variables.file', bytes: png },
    );
    expect(created.body.errors, JSON.stringify(created.body.errors)).toBeUndefined();
    expect(created.status).toBe(200);
    const task = (created.body.data as GenerateFromFileMutation).generateBackground;

    const client = createSseClient({
      url: `${stack.url}/graphql/stream`,
      singleConnection,
      fetchFn: fetch,
      retryAttempts: 0,
    });
    try {
      const updates: FollowedTask[] = [];
      for await (const result of client.iterate<FollowTaskSubscription>({
        query: print(FollowTaskDocument),
        variables: { id: task.id },
      })) {
        expect(result.errors).toBeUndefined();
        if (result.data) updates.push(result.data.backgroundTaskUpdated);
      }
      await expectSucceededWithImages(updates, task.id);
    } finally {
      client.dispose();
    }
  }, 120_000);
});
