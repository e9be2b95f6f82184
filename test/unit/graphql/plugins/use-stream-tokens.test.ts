import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useStreamTokens } from '../../../../src/graphql/plugins/use-stream-tokens.js';
import { servePlugins } from '../../../support/plugin-server.js';

/** useStreamTokens on its own: graphql-sse's single-connection tokens belong to one tenant. */

describe('useStreamTokens', () => {
  let server: Awaited<ReturnType<typeof servePlugins>>;
  let streamUrl: string;

  beforeAll(async () => {
    server = await servePlugins([useStreamTokens()]);
    streamUrl = `${server.url}/stream`;
  });
  afterAll(() => server.close());

  const reserve = async (tenant: string) => {
    const response = await fetch(streamUrl, { method: 'PUT', headers: { 'x-tenant': tenant } });
    expect(response.status).toBe(201);
    return response.text();
  };
  const open = async (tenant: string, token: string) => {
    const controller = new AbortController();
    const response = await fetch(streamUrl, {
      headers: { accept: 'text/event-stream', 'x-tenant': tenant, 'x-graphql-event-stream-token': token },
      signal: controller.signal,
    });
    controller.abort();
    return response.status;
  };

  it('hands out a fresh token for every reservation', async () => {
    const [first, second] = [await reserve('alpha'), await reserve('alpha')];
    expect(first).not.toBe(second);
    expect(first).toMatch(/^[0-9a-f-]{36}\.[\w-]{32}$/);
  });

  it('opens the stream for the tenant that reserved it', async () => {
    expect(await open('alpha', await reserve('alpha'))).toBe(200);
  });

  it("answers another tenant's token like an unknown one (404)", async () => {
    expect(await open('beta', await reserve('alpha'))).toBe(404);
  });

  it('refuses a made-up token', async () => {
    const token = await reserve('alpha');
    expect(await open('alpha', `${token.split('.')[0]}.${'A'.repeat(32)}`)).toBe(404);
    expect(await open('alpha', 'not-a-token')).toBe(404);
  });
});
