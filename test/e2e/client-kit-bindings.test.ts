import { ApolloClient, InMemoryCache } from '@apollo/client';
import { Client as UrqlClient } from '@urql/core';
import { beforeAll, describe, expect } from 'vitest';
import { apolloLink } from '../../client/apollo.js';
import { urqlExchanges } from '../../client/urql.js';
import {
  FollowTaskDocument,
  type FollowTaskSubscription,
  GenerateFromFileDocument,
  SceneTypesDocument,
} from '../generated/graphql.js';
import { pngFile } from '../support/client-kit.js';
import { transparentPng } from '../support/fixtures.js';
import { stackTest } from '../support/stack-test.js';

/**
 * The kit's one-line bindings, `apolloLink` and `urqlExchanges`, on a gateway with keys: the key,
 * the upload preflight header and the SSE transport are all theirs to get right.
 */

const KEY = 'kit-bindings-key-0123456789abcdef';
const PROMPT = 'white marble counter, soft daylight';

const it = stackTest({ engine: { durationMs: 800 }, env: { GATEWAY_API_KEYS: `web:${KEY}` } });
let file: File;

beforeAll(async () => {
  file = pngFile(await transparentPng(512, 384));
});

type Followed = FollowTaskSubscription['backgroundTaskUpdated'];

/** Waits for a subscription to report a final state; returns the states seen, collapsed. */
function untilFinal(
  subscribe: (onTask: (task: Followed) => void) => { unsubscribe(): void },
): Promise<{ states: string[]; last: Followed }> {
  return new Promise((resolve) => {
    const states: string[] = [];
    const subscription = subscribe((task) => {
      if (states.at(-1) !== task.state) states.push(task.state);
      if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(task.state)) {
        setImmediate(() => subscription.unsubscribe());
        resolve({ states, last: task });
      }
    });
  });
}

describe('apolloLink', () => {
  it('uploads, queries and follows over SSE with the gateway key, through one link', async ({ stack }) => {
    const client = new ApolloClient({
      cache: new InMemoryCache(),
      link: apolloLink({ url: `${stack.url}/graphql`, apiKey: KEY }),
    });
    try {
      const templates = await client.query({ query: SceneTypesDocument });
      expect(templates.data?.sceneTypes.length).toBeGreaterThan(0);
      const created = await client.mutate({
        mutation: GenerateFromFileDocument,
        variables: { file, prompt: PROMPT },
      });
      const id = created.data!.generateBackground.id;
      const { states, last } = await untilFinal((onTask) =>
        client.subscribe({ query: FollowTaskDocument, variables: { id } }).subscribe(({ data }) => {
          if (data) onTask(data.backgroundTaskUpdated);
        }),
      );
      expect(states.at(-1), states.join(' → ')).toBe('SUCCEEDED');
      expect(last.images).toHaveLength(2);
    } finally {
      client.stop();
    }
  });

  it('without the key, the refusal comes back as UNAUTHENTICATED', async ({ stack }) => {
    const client = new ApolloClient({
      cache: new InMemoryCache(),
      link: apolloLink({ url: `${stack.url}/graphql` }),
    });
    const result = await client.query({ query: SceneTypesDocument }).catch((error: unknown) => ({ error }));
    expect(JSON.stringify(result.error)).toMatch(/UNAUTHENTICATED|401/);
    client.stop();
  });
});

describe('urqlExchanges', () => {
  it('uploads, queries and follows over SSE with the gateway key', async ({ stack }) => {
    const client = new UrqlClient({
      url: `${stack.url}/graphql`,
      exchanges: urqlExchanges({ url: `${stack.url}/graphql`, apiKey: KEY }),
    });
    const templates = await client.query(SceneTypesDocument, {}).toPromise();
    expect(templates.error).toBeUndefined();
    expect(templates.data?.sceneTypes.length).toBeGreaterThan(0);
    const created = await client.mutation(GenerateFromFileDocument, { file, prompt: PROMPT }).toPromise();
    expect(created.error).toBeUndefined();
    const id = created.data!.generateBackground.id;
    const { states, last } = await untilFinal((onTask) =>
      client.subscription(FollowTaskDocument, { id }).subscribe((result) => {
        if (result.data) onTask(result.data.backgroundTaskUpdated);
      }),
    );
    expect(states.at(-1), states.join(' → ')).toBe('SUCCEEDED');
    expect(last.images).toHaveLength(2);
  });
});
