import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useNoSuggestions } from '../../../../src/graphql/plugins/use-no-suggestions.js';
import { postOperation, servePlugins } from '../../../support/plugin-server.js';

/** useNoSuggestions on its own: "Did you mean" leaves error messages, the rest stays. */

describe('useNoSuggestions', () => {
  const servers: Awaited<ReturnType<typeof servePlugins>>[] = [];
  let on: Awaited<ReturnType<typeof servePlugins>>;
  let off: Awaited<ReturnType<typeof servePlugins>>;
  beforeAll(async () => {
    on = await servePlugins([useNoSuggestions()]);
    off = await servePlugins([useNoSuggestions({ enabled: false })]);
    servers.push(on, off);
  });
  afterAll(() => Promise.all(servers.map((server) => server.close())));

  it('cuts the suggestion from a validation error and keeps its code', async () => {
    const { status, body } = await postOperation(on.url, '{ helo }');
    expect(status).toBe(400);
    expect(body.errors?.[0]?.message).toBe('Cannot query field "helo" on type "Query".');
  });

  it('leaves messages alone when disabled', async () => {
    const { body } = await postOperation(off.url, '{ helo }');
    expect(body.errors?.[0]?.message).toMatch(/Did you mean "hello"\?/);
  });
});
