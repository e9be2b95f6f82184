import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_OPERATION_LIMITS,
  useOperationLimits,
} from '../../../../src/graphql/plugins/use-operation-limits.js';
import { postOperation, servePlugins } from '../../../support/plugin-server.js';

/** useOperationLimits on its own: each limit refuses with a code, and the options override the defaults. */

describe('useOperationLimits', () => {
  let strict: Awaited<ReturnType<typeof servePlugins>>;
  let defaults: Awaited<ReturnType<typeof servePlugins>>;

  beforeAll(async () => {
    strict = await servePlugins([
      useOperationLimits({ maxDepth: 2, maxAliases: 1, blockFieldSuggestion: true }),
    ]);
    defaults = await servePlugins([useOperationLimits()]);
  });
  afterAll(async () => {
    await strict.close();
    await defaults.close();
  });

  it('refuses an operation deeper than maxDepth as GRAPHQL_VALIDATION_FAILED, without running it', async () => {
    const { status, body } = await postOperation(strict.url, '{ item { child { child { id } } } }');
    expect(status).toBe(400);
    expect(body.data).toBeUndefined();
    expect(body.errors?.[0]?.message).toMatch(/depth limit of 2 exceeded/i);
    expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('refuses more aliases than maxAliases', async () => {
    const { body } = await postOperation(strict.url, '{ a: hello b: hello }');
    expect(body.errors?.[0]?.message).toMatch(/aliases limit of 1 exceeded/i);
    expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it(`keeps the defaults (depth ${DEFAULT_OPERATION_LIMITS.maxDepth}) for options left out`, async () => {
    const { body } = await postOperation(defaults.url, '{ item { child { child { id } } } }');
    expect(body.errors).toBeUndefined();
  });

  it('refuses a document over maxTokens while parsing, as GRAPHQL_PARSE_FAILED', async () => {
    const { body } = await postOperation(
      defaults.url,
      `{ ${'hello '.repeat(DEFAULT_OPERATION_LIMITS.maxTokens + 1)}}`,
    );
    expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
  });

  it('leaves out field suggestions only when blockFieldSuggestion is set', async () => {
    const hinted = await postOperation(defaults.url, '{ helo }');
    expect(hinted.body.errors?.[0]?.message).toMatch(/Did you mean/);
    const blocked = await postOperation(strict.url, '{ helo }');
    expect(blocked.body.errors?.[0]?.message).not.toMatch(/Did you mean/);
  });
});
