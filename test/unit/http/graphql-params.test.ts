import { describe, expect, it } from 'vitest';
import { paramsFromJson, paramsFromSearch } from '../../../src/http/graphql-params.js';

const HASH = { persistedQuery: { version: 1, sha256Hash: 'abc' } };

describe('paramsFromJson', () => {
  it('reads all four parameters and the persisted document hash', () => {
    const read = paramsFromJson(
      JSON.stringify({ query: '{ a }', variables: { id: 1 }, operationName: 'A', extensions: HASH }),
    );
    expect(read).toEqual({
      ok: true,
      value: {
        query: '{ a }',
        variables: { id: 1 },
        operationName: 'A',
        documentHash: 'abc',
        extensions: HASH,
      },
    });
  });

  it('reads absent optional parameters as null', () => {
    expect(paramsFromJson('{"query":"{ a }"}')).toEqual({
      ok: true,
      value: { query: '{ a }', variables: null, operationName: null, documentHash: null, extensions: null },
    });
  });

  it("answers text that is not JSON with the parser's message", () => {
    const read = paramsFromJson('{query');
    expect(read.ok).toBe(false);
    expect(read.ok ? '' : read.error).toMatch(/JSON/);
  });

  it.each([
    ['an array', '[{"query":"{ a }"}]', 'JSON body must be an object'],
    ['a string', '"{ a }"', 'JSON body must be an object'],
    ['no query and no hash', '{"variables":{}}', 'Missing query'],
    ['a query that is not a string', '{"query":1}', 'Invalid query'],
    ['variables that are an array', '{"query":"{ a }","variables":[]}', 'Invalid variables'],
    ['an operationName that is not a string', '{"query":"{ a }","operationName":1}', 'Invalid operationName'],
    ['extensions that are a string', '{"query":"{ a }","extensions":"x"}', 'Invalid extensions'],
  ])('refuses %s by Yoga’s rules', (_, text, message) => {
    expect(paramsFromJson(text)).toEqual({ ok: false, error: message });
  });

  it('names the missing query first when several parameters are wrong, as graphql-sse does', () => {
    expect(paramsFromJson('{"variables":[],"extensions":"x"}', 'graphql-sse')).toEqual({
      ok: false,
      error: 'Missing query',
    });
  });

  it('takes a document named by hash alone by Yoga’s rules, but not by graphql-sse’s', () => {
    const text = JSON.stringify({ extensions: HASH });
    expect(paramsFromJson(text)).toMatchObject({ ok: true, value: { query: null, documentHash: 'abc' } });
    expect(paramsFromJson(text, 'graphql-sse')).toEqual({ ok: false, error: 'Missing query' });
  });

  it('ignores an operationName that is not a string by graphql-sse’s rules, and never reads a hash', () => {
    const read = paramsFromJson(
      JSON.stringify({ query: '{ a }', operationName: 1, extensions: HASH }),
      'graphql-sse',
    );
    expect(read).toMatchObject({ ok: true, value: { operationName: null, documentHash: null } });
  });
});

describe('paramsFromSearch', () => {
  it('reads a GET query string, variables and extensions as JSON', () => {
    const search = new URLSearchParams({ query: '{ a }', variables: '{"id":1}', operationName: 'A' });
    expect(paramsFromSearch(search)).toEqual({
      ok: true,
      value: {
        query: '{ a }',
        variables: { id: 1 },
        operationName: 'A',
        documentHash: null,
        extensions: null,
      },
    });
  });

  it('answers variables or extensions that are not JSON with "Unparsable URL"', () => {
    expect(paramsFromSearch(new URLSearchParams({ query: '{ a }', variables: '{' }))).toEqual({
      ok: false,
      error: 'Unparsable URL',
    });
    expect(paramsFromSearch(new URLSearchParams({ query: '{ a }', extensions: 'x' }), 'graphql-sse')).toEqual(
      {
        ok: false,
        error: 'Unparsable URL',
      },
    );
  });

  it('answers an empty query string with "Missing query"', () => {
    expect(paramsFromSearch(new URLSearchParams(), 'graphql-sse')).toEqual({
      ok: false,
      error: 'Missing query',
    });
  });

  it('reads empty variables as none', () => {
    expect(paramsFromSearch(new URLSearchParams({ query: '{ a }', variables: '' }))).toMatchObject({
      ok: true,
      value: { variables: null },
    });
  });
});
