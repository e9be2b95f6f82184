import { describe, expect } from 'vitest';
import { transparentPng } from '../support/fixtures.js';
import { type TestStack, uploadOperation } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import { bearer, TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';

/**
 * The operations endpoints and rough edges of a public (keyed, production) gateway: /metrics and
 * the details of /readyz only with METRICS_TOKEN, no enum suggestions, CORS by allow-list, and a
 * PNG cut before its IEND chunk refused before anything is spent.
 */

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
const ALLOWED = 'https://app.example.com';

const it = stackTest({
  env: {
    GATEWAY_API_KEYS: TWO_TENANT_KEYS,
    METRICS_TOKEN,
    CORS_ORIGINS: ALLOWED,
    NODE_ENV: 'production',
  },
});

describe('operations endpoints of a keyed gateway', () => {
  it('refuses /metrics without the token and serves it with it', async ({ stack }) => {
    expect((await fetch(`${stack.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${stack.url}/metrics`, { headers: bearer(TENANTS.alpha) })).status).toBe(401);
    const scraped = await fetch(`${stack.url}/metrics`, { headers: bearer(METRICS_TOKEN) });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('graphql_operations_total');
  });

  it('says only ready or not on /readyz, unless asked with the token', async ({ stack }) => {
    const anyone = await fetch(`${stack.url}/readyz`);
    expect(anyone.status).toBe(200);
    expect(await anyone.json()).toEqual({ status: 'ready' });
    const operator = (await (
      await fetch(`${stack.url}/readyz`, { headers: bearer(METRICS_TOKEN) })
    ).json()) as {
      checks?: unknown;
    };
    expect(operator.checks).toBeDefined();
  });
});

describe('production answers', () => {
  it('does not suggest enum values, in literals or in variables', async ({ stack }) => {
    const literal = await stack.gql(
      '{ backgroundTasks(first: 1, state: QUEUD) { edges { cursor } } }',
      {},
      bearer(TENANTS.alpha),
    );
    const variable = await stack.gql(
      'query($s: BackgroundTaskState) { backgroundTasks(first: 1, state: $s) { edges { cursor } } }',
      { s: 'QUEUD' },
      bearer(TENANTS.alpha),
    );
    for (const answer of [literal, variable]) {
      expect(answer.body.errors?.length).toBeGreaterThan(0);
      expect(JSON.stringify(answer.body)).not.toMatch(/Did you mean|QUEUED/);
    }
  });
});

describe('CORS', () => {
  const preflight = (stack: TestStack, origin: string) =>
    fetch(`${stack.url}/graphql`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,authorization',
      },
    });

  it('answers an allowed origin, with credentials', async ({ stack }) => {
    const answer = await preflight(stack, ALLOWED);
    expect(answer.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(answer.headers.get('access-control-allow-credentials')).toBe('true');
  });

  it('does not reflect any other origin', async ({ stack }) => {
    const answer = await preflight(stack, 'https://evil.example');
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
    const post = await fetch(`${stack.url}/graphql`, {
      method: 'POST',
      headers: {
        origin: 'https://evil.example',
        'content-type': 'application/json',
        ...bearer(TENANTS.alpha),
      },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(post.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('a PNG without IEND', () => {
  it('is refused as CORRUPT_IMAGE before any upstream call', async ({ stack }) => {
    const png = await transparentPng(400, 300);
    const cut = png.subarray(0, png.length - 12);
    const answer = await uploadOperation(
      stack.url,
      'mutation($f: Upload!) { generateBackground(input: { image: { file: $f }, background: { prompt: "x" } }) { id } }',
      { f: null },
      { variablePath: 'variables.f', bytes: cut },
      { 'apollo-require-preflight': 'true', ...bearer(TENANTS.alpha) },
    );
    expect(answer.body.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'CORRUPT_IMAGE',
    });
    expect(stack.engine.stats().createAttempts).toBe(0);
  });
});
