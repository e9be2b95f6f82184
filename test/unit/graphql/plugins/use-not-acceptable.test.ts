import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useNotAcceptable } from '../../../../src/graphql/plugins/use-not-acceptable.js';
import { servePlugins } from '../../../support/plugin-server.js';

/** useNotAcceptable on its own: an Accept Yoga cannot serve gets 406 naming what it can. */

describe('useNotAcceptable', () => {
  let server: Awaited<ReturnType<typeof servePlugins>>;
  beforeAll(async () => {
    server = await servePlugins([useNotAcceptable()]);
  });
  afterAll(() => server.close());

  const post = (accept: string) =>
    fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept },
      body: JSON.stringify({ query: '{ hello }' }),
    });

  it('answers an Accept nothing matches with 406, NOT_ACCEPTABLE and the media types it could send', async () => {
    const response = await post('image/png');
    expect(response.status).toBe(406);
    expect(response.headers.get('content-type')).toContain('application/json');
    const body = (await response.json()) as {
      errors: { message: string; extensions: { code: string; accept: string[] } }[];
    };
    expect(body.errors[0]?.extensions.code).toBe('NOT_ACCEPTABLE');
    expect(body.errors[0]?.extensions.accept).toEqual(
      expect.arrayContaining(['application/json', 'application/graphql-response+json']),
    );
    expect(body.errors[0]?.message).toContain('image/png');
  });

  it('leaves an Accept Yoga serves alone', async () => {
    const response = await post('application/json');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { hello: 'world' } });
  });
});
