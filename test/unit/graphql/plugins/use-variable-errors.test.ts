import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useVariableErrors } from '../../../../src/graphql/plugins/use-variable-errors.js';
import { postOperation, servePlugins } from '../../../support/plugin-server.js';

/** useVariableErrors on its own: variables that cannot be coerced get INVALID_VARIABLE and a path. */

const ECHO = 'query($filter: Filter!, $limit: Int) { echo(filter: $filter, limit: $limit) }';

describe('useVariableErrors', () => {
  let server: Awaited<ReturnType<typeof servePlugins>>;

  beforeAll(async () => {
    server = await servePlugins([useVariableErrors()]);
  });
  afterAll(() => server.close());

  const refusal = async (query: string, variables: Record<string, unknown>) => {
    const { status, body } = await postOperation(server.url, query, variables);
    return {
      status,
      extensions: body.errors?.map((e) => e.extensions) ?? [],
      message: body.errors?.[0]?.message,
    };
  };

  it('names the argument and the path inside the value, list indexes included', async () => {
    const { status, extensions } = await refusal(ECHO, { filter: { ids: [1, 'two'] } });
    expect(status).toBe(400);
    expect(extensions[0]).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'INVALID_VARIABLE',
      field: 'filter.ids.1',
    });
  });

  it('names the argument for a required variable that was not sent', async () => {
    const { extensions } = await refusal(ECHO, {});
    expect(extensions[0]).toMatchObject({ reason: 'INVALID_VARIABLE', field: 'filter' });
  });

  it('names the object for a field it does not have, and gives one error per problem', async () => {
    const { extensions } = await refusal(ECHO, { filter: { colour: 'red' }, limit: 'ten' });
    expect(extensions.map((e) => e?.field)).toEqual(['filter', 'limit']);
  });

  it("keeps graphql-js's message, which names the expected type", async () => {
    const { message } = await refusal(ECHO, { filter: {}, limit: 'ten' });
    expect(message).toMatch(/Int/);
  });

  it('finds a variable used deep inside a literal', async () => {
    const { extensions } = await refusal('query($n: String) { echo(filter: { name: $n }) }', { n: 5 });
    expect(extensions[0]).toMatchObject({ reason: 'INVALID_VARIABLE', field: 'filter.name' });
  });

  it('leaves other errors alone', async () => {
    const { body } = await postOperation(server.url, '{ nope }');
    expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});
