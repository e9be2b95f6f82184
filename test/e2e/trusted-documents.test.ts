import { createClient } from 'graphql-sse';
import { describe, expect } from 'vitest';
import { FollowTaskDocument, GenerateFromFileDocument, TaskByIdDocument } from '../generated/graphql.js';
import persisted from '../generated/persisted-documents.json' with { type: 'json' };
import { transparentPng } from '../support/fixtures.js';
import type { GraphQLErrorShape, TestStack } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';

/**
 * A gateway that runs only trusted documents (PERSISTED_OPERATIONS_ONLY) from the codegen client
 * preset's persisted-documents.json: clients send ids, every other document is refused on every
 * transport.
 */

const idOf = (document: unknown) => (document as { __meta__: { hash: string } }).__meta__.hash;
const textOf = (document: unknown) => (persisted as Record<string, string>)[idOf(document)] as string;

const it = stackTest({
  env: {
    PERSISTED_OPERATIONS_FILE: 'test/generated/persisted-documents.json',
    PERSISTED_OPERATIONS_ONLY: 'true',
  },
});

/** Runs a trusted document by its id alone, as a client of this gateway does. */
async function byId(stack: TestStack, document: unknown, variables: Record<string, unknown>) {
  const response = await fetch(`${stack.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({
      variables,
      extensions: { persistedQuery: { version: 1, sha256Hash: idOf(document) } },
    }),
  });
  return (await response.json()) as { data?: Record<string, unknown>; errors?: GraphQLErrorShape[] };
}

describe('trusted documents only', () => {
  it('creates a task with an upload sent by document id, and reads it back by id', async ({ stack }) => {
    const form = new FormData();
    form.set(
      'operations',
      JSON.stringify({
        variables: { file: null, prompt: 'a quiet library' },
        extensions: { persistedQuery: { version: 1, sha256Hash: idOf(GenerateFromFileDocument) } },
      }),
    );
    form.set('map', JSON.stringify({ 0: ['variables.file'] }));
    form.set('0', new Blob([new Uint8Array(await transparentPng())], { type: 'image/png' }), 'product.png');
    const created = (await (
      await fetch(`${stack.url}/graphql`, {
        method: 'POST',
        body: form,
        headers: { 'apollo-require-preflight': 'true' },
      })
    ).json()) as { data?: { generateBackground: { id: string } } };
    const id = created.data?.generateBackground.id as string;
    expect(id).toBeTruthy();
    const read = await byId(stack, TaskByIdDocument, { id });
    expect(read.data?.backgroundTask).toMatchObject({ id });
  });

  it('refuses a document sent as text that is not in the file', async ({ stack }) => {
    const answer = await stack.gql('{ sceneTypes { id } }');
    expect(answer.body.data).toBeUndefined();
    expect(answer.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ONLY');
  });

  it('holds on /graphql/stream too: a trusted subscription text streams, any other is refused', async ({
    stack,
  }) => {
    const client = createClient({ url: `${stack.url}/graphql/stream`, fetchFn: fetch, retryAttempts: 0 });
    try {
      const refused = client.iterate({ query: 'subscription { backgroundTaskUpdated(id: "x") { id } }' });
      await expect(refused.next()).rejects.toThrow();
      const first = await client
        .iterate({ query: textOf(FollowTaskDocument), variables: { id: 'no-such-task' } })
        .next();
      expect(JSON.stringify(first.value)).toContain('NOT_FOUND');
    } finally {
      client.dispose();
    }
  });
});
