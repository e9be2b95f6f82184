import { serverAudits } from 'graphql-http';
import { describe, expect } from 'vitest';
import { generateUpload, transparentPng } from '../support/fixtures.js';
import { type GraphQLErrorShape, type TestStack, uploadOperation } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import { bearer, TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';

/** Adds the gateway key to every request the audit suite makes. */
function withKey(key: string): typeof fetch {
  return (input, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${key}`);
    return fetch(input, { ...init, headers });
  };
}

for (const nodeEnv of ['development', 'production']) {
  describe(`GraphQL over HTTP compliance (NODE_ENV=${nodeEnv})`, () => {
    const it = stackTest({ env: { GATEWAY_API_KEYS: TWO_TENANT_KEYS, NODE_ENV: nodeEnv } }, 'test');

    it('passes every graphql-http server audit (MUST, SHOULD and MAY) through auth, body limit, multipart and CSRF handling', async ({
      stack,
    }) => {
      const audits = serverAudits({ url: () => `${stack.url}/graphql`, fetchFn: withKey(TENANTS.alpha) });
      expect(audits.length).toBeGreaterThanOrEqual(61);
      const failures: string[] = [];
      for (const audit of audits) {
        const result = await audit.fn();
        if (result.status !== 'ok') failures.push(`${audit.name}: ${result.reason}`);
      }
      expect(failures).toEqual([]);
    });
  });
}

// Local mode: no key protects the gateway, so CSRF is the guard that matters.
const itLocal = stackTest({});
const itKeyed = stackTest({ env: { GATEWAY_API_KEYS: TWO_TENANT_KEYS } }, 'test');

describe('CSRF protection', () => {
  const post = async (
    stack: TestStack,
    contentType: string,
    body: string,
    headers: Record<string, string> = {},
  ) => {
    const response = await fetch(`${stack.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': contentType, ...headers },
      body,
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text ? (JSON.parse(text) as { data?: unknown; errors?: GraphQLErrorShape[] }) : {},
    };
  };
  const mutation = 'mutation { cancelBackgroundTask(id: "x") { id } }';

  itLocal(
    'refuses a form-encoded POST (what an HTML form on any site can send) with CSRF_PREVENTED',
    async ({ stack }) => {
      const refused = await post(
        stack,
        'application/x-www-form-urlencoded',
        new URLSearchParams({ query: mutation }).toString(),
      );
      expect(refused.status).toBe(400);
      expect(refused.body.errors?.[0]?.extensions?.code).toBe('CSRF_PREVENTED');
      expect(refused.body.data).toBeUndefined();
    },
  );

  itLocal('refuses a text/plain POST carrying a JSON operation with CSRF_PREVENTED', async ({ stack }) => {
    const refused = await post(stack, 'text/plain;charset=UTF-8', JSON.stringify({ query: mutation }));
    expect(refused.status).toBe(400);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('CSRF_PREVENTED');
  });

  itLocal(
    'refuses a multipart upload without a preflight header before reading the file',
    async ({ stack }) => {
      const answer = await uploadOperation(
        stack.url,
        generateUpload(),
        { file: null, batch: 1 },
        { variablePath: 'variables.file', bytes: await transparentPng(400, 300) },
        {},
      );
      expect(answer.status).toBe(400);
      expect(answer.body.errors?.[0]?.extensions?.code).toBe('CSRF_PREVENTED');
    },
  );

  itLocal(
    'accepts the same multipart upload with an apollo-require-preflight or x-graphql-yoga-csrf header',
    async ({ stack }) => {
      for (const header of ['apollo-require-preflight', 'x-graphql-yoga-csrf']) {
        const answer = await uploadOperation(
          stack.url,
          generateUpload(),
          { file: null, batch: 1 },
          { variablePath: 'variables.file', bytes: await transparentPng(400, 300) },
          { [header]: 'true' },
        );
        expect(answer.status).toBe(200);
        expect(answer.body.errors).toBeUndefined();
      }
    },
  );

  itLocal(
    'leaves JSON requests and GET queries alone (a browser preflights JSON itself)',
    async ({ stack }) => {
      const json = await post(stack, 'application/json', JSON.stringify({ query: '{ __typename }' }));
      expect(json).toEqual({ status: 200, body: { data: { __typename: 'Query' } } });
      const get = await fetch(`${stack.url}/graphql?query=${encodeURIComponent('{ __typename }')}`);
      expect(get.status).toBe(200);
      expect(await get.json()).toEqual({ data: { __typename: 'Query' } });
    },
  );

  itLocal('never runs a mutation over GET', async ({ stack }) => {
    const get = await fetch(`${stack.url}/graphql?query=${encodeURIComponent(mutation)}`, {
      headers: { accept: 'application/graphql-response+json' },
    });
    expect(get.status).toBe(405);
  });

  itKeyed('applies the same rule with gateway keys configured', async ({ stack: keyed }) => {
    const response = await fetch(`${keyed.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...bearer(TENANTS.alpha) },
      body: new URLSearchParams({ query: '{ __typename }' }).toString(),
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('CSRF_PREVENTED');
  });
});
