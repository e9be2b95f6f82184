import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTrustedDocuments } from '../../../../src/graphql/plugins/use-trusted-documents.js';
import { servePlugins } from '../../../support/plugin-server.js';

/** useTrustedDocuments on its own: documents by id, unknown ids, and the only-these mode. */

const HELLO_ID = 'a1b2c3';
const documents = { [`sha256:${HELLO_ID}`]: '{ hello }' };

async function post(url: string, body: Record<string, unknown>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify(body),
  });
  return (await response.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
}

const byId = (id: string) => ({ extensions: { persistedQuery: { version: 1, sha256Hash: id } } });

describe('useTrustedDocuments', () => {
  let open: Awaited<ReturnType<typeof servePlugins>>;
  let only: Awaited<ReturnType<typeof servePlugins>>;

  beforeAll(async () => {
    open = await servePlugins([useTrustedDocuments({ documents })]);
    only = await servePlugins([useTrustedDocuments({ documents, only: true })]);
  });
  afterAll(async () => {
    await open.close();
    await only.close();
  });

  it('runs a trusted document by its id, with or without the sha256: prefix', async () => {
    expect((await post(open.url, byId(HELLO_ID))).data).toEqual({ hello: 'world' });
    expect((await post(open.url, byId(`sha256:${HELLO_ID}`))).data).toEqual({ hello: 'world' });
  });

  it('answers an unknown id with PERSISTED_QUERY_NOT_IN_LIST', async () => {
    const answer = await post(open.url, byId('ffff'));
    expect(answer.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
  });

  it('still runs any document sent as text by default', async () => {
    expect((await post(open.url, { query: '{ item { id } }' })).data).toEqual({ item: { id: '1' } });
  });

  it('with only, refuses any other text with PERSISTED_QUERY_ONLY, and runs trusted ones by id or exact text', async () => {
    const refused = await post(only.url, { query: '{ item { id } }' });
    expect(refused.data).toBeUndefined();
    expect(refused.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ONLY');
    expect((await post(only.url, byId(HELLO_ID))).data).toEqual({ hello: 'world' });
    expect((await post(only.url, { query: '{ hello }' })).data).toEqual({ hello: 'world' });
  });
});
