import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useUnsupportedMediaType } from '../../../../src/graphql/plugins/use-unsupported-media-type.js';
import { servePlugins } from '../../../support/plugin-server.js';

/** useUnsupportedMediaType on its own: a POST Yoga cannot parse gets 415 with a GraphQL error. */

describe('useUnsupportedMediaType', () => {
  let server: Awaited<ReturnType<typeof servePlugins>>;
  beforeAll(async () => {
    server = await servePlugins([useUnsupportedMediaType()]);
  });
  afterAll(() => server.close());

  it('answers an unknown content type with 415 and UNSUPPORTED_MEDIA_TYPE', async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/xml' },
      body: '<query/>',
    });
    expect(response.status).toBe(415);
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('leaves JSON requests and other methods to Yoga', async () => {
    const json = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ hello }' }),
    });
    expect(json.status).toBe(200);
    const put = await fetch(`${server.url}/graphql`, { method: 'PUT', body: '{}' });
    expect(put.status).toBe(405);
  });
});
