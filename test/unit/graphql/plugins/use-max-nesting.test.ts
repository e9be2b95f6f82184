import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstPositionDeeperThan, useMaxNesting } from '../../../../src/graphql/plugins/use-max-nesting.js';
import { postOperation, servePlugins } from '../../../support/plugin-server.js';

/** useMaxNesting on its own: too-deep documents are syntax errors before graphql-js recurses. */

describe('useMaxNesting', () => {
  let server: Awaited<ReturnType<typeof servePlugins>>;
  beforeAll(async () => {
    server = await servePlugins([useMaxNesting({ maxNesting: 8 })]);
  });
  afterAll(() => server.close());

  it('refuses a list literal nested past the limit as GRAPHQL_PARSE_FAILED', async () => {
    const { status, body } = await postOperation(
      server.url,
      `{ echo(filter: { ids: ${'['.repeat(9)}1${']'.repeat(9)} }) }`,
    );
    expect(status).toBe(400);
    expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(body.errors?.[0]?.message).toMatch(/deeper than 8/);
  });

  it('lets a document within the limit through to the parser', async () => {
    const { status, body } = await postOperation(server.url, '{ item { child { child { id } } } }');
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
  });

  it('does not count brackets inside strings, block strings and comments', () => {
    const deep = '['.repeat(100);
    expect(firstPositionDeeperThan(`{ a(s: "${deep}") }`, 4)).toBe(-1);
    expect(firstPositionDeeperThan(`{ a(s: """${deep} \\""" ${deep}""") }`, 4)).toBe(-1);
    expect(firstPositionDeeperThan(`# ${deep}\n{ a }`, 4)).toBe(-1);
    expect(firstPositionDeeperThan(`{ a(s: "\\"${deep}") }`, 4)).toBe(-1);
    expect(firstPositionDeeperThan('{{{{{', 4)).toBe(4);
  });
});
