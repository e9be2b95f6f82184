import { ApolloClient, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { ApolloProvider, useSubscription } from '@apollo/client/react';
import { Window } from 'happy-dom';
import { createElement, useEffect } from 'react';
import { createRoot } from 'react-dom/client';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { noOpenStreams } from '../support/client-kit.js';
import { generateUpload, transparentPng } from '../support/fixtures.js';
import { eventually, uploadOperation } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';

/**
 * Apollo Client 4's React `useSubscription` over its plain HttpLink (multipart subscriptions),
 * rendered by react-dom into a happy-dom document (only the DOM is swapped in: fetch stays Node's,
 * talking to a real gateway on loopback).
 */

const FOLLOW = gql`
  subscription Follow($id: ID!) {
    backgroundTaskUpdated(id: $id) {
      id
      state
      progress
    }
  }
`;

interface Seen {
  state: string;
  progress: number;
}

const it = stackTest({ engine: { durationMs: 800 } });
const window = new Window({ url: 'http://127.0.0.1/' });

beforeAll(async () => {
  Object.assign(globalThis, { window, document: window.document });
  Object.defineProperty(globalThis, 'navigator', {
    value: window.navigator,
    configurable: true,
    writable: true,
  });
});

afterAll(async () => {
  await window.happyDOM.close();
});

function Probe(props: { id: string; seen: Seen[] }) {
  const { data, error } = useSubscription<{ backgroundTaskUpdated: Seen }>(FOLLOW, {
    variables: { id: props.id },
  });
  useEffect(() => {
    if (error) props.seen.push({ state: `error: ${error.message}`, progress: -1 });
    if (data) props.seen.push(data.backgroundTaskUpdated);
  }, [props.seen, data, error]);
  return null;
}

describe("Apollo's useSubscription over the plain HttpLink", () => {
  it('renders a task to SUCCEEDED, and leaves no stream open after unmounting', async ({ stack }) => {
    const answer = await uploadOperation(
      stack.url,
      generateUpload('id'),
      { file: null, prompt: 'a sunny beach' },
      { variablePath: 'variables.file', bytes: await transparentPng(400, 300) },
    );
    const id = (answer.body.data as { generateBackground: { id: string } }).generateBackground.id;
    const client = new ApolloClient({
      cache: new InMemoryCache(),
      link: new HttpLink({ uri: `${stack.url}/graphql` }),
    });
    const seen: Seen[] = [];
    const root = createRoot(document.createElement('div') as unknown as Element);
    root.render(createElement(ApolloProvider, { client, children: createElement(Probe, { id, seen }) }));
    await eventually(async () => (seen.some((s) => s.state === 'SUCCEEDED') ? true : undefined), 60_000);
    expect(seen.filter((s) => s.state.startsWith('error'))).toEqual([]);
    expect(seen[0]?.state).not.toBe('SUCCEEDED');
    expect(seen.at(-1)).toMatchObject({ state: 'SUCCEEDED', progress: 100 });
    root.unmount();
    await noOpenStreams(stack.url);
  });
});
