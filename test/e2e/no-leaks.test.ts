import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logging.js';
import { hasChromium, launchChromium } from '../support/browser.js';
import { eventually, type GraphQLErrorShape, startStack, type TestStack } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import { bearer, generate, mustGenerate, sseUntil, TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';

const SIGNING_SECRET = 'files-signing-secret-4b1f7d9e2a6c8e0f3b5d7a9c';
const WRONG_KEY = 'wrong-gateway-key-6d8f0a2c4e6b8d0f';
const SESSION_SECRET = 'session-token-secret-9c7e5a3f1d8b6e4c2a0f';
const TASK = `query Task($id: ID!) {
  backgroundTask(id: $id) { id state error { code message } images { url } }
}`;

/** Every response a test saw, headers and body, so it can be searched for secrets afterwards. */
class Transcript {
  readonly texts: string[] = [];

  async fetch(url: string, init: RequestInit = {}): Promise<{ status: number; text: string }> {
    const response = await fetch(url, init);
    const text = await response.text();
    this.texts.push(`${response.status} ${JSON.stringify([...response.headers])}\n${text}`);
    return { status: response.status, text };
  }

  async gql(
    stack: TestStack,
    query: string,
    variables: Record<string, unknown>,
    headers: Record<string, string>,
  ): Promise<{ status: number; body: { data?: Record<string, unknown>; errors?: GraphQLErrorShape[] } }> {
    const { status, text } = await this.fetch(`${stack.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return { status, body: JSON.parse(text) };
  }
}

/** What the gateway of the secrets test logs, at debug level. */
const logLines: string[] = [];
const itLogged = stackTest({
  engine: { durationMs: 300 },
  env: {
    GATEWAY_API_KEYS: TWO_TENANT_KEYS,
    METRICS_TOKEN: 'metrics-token-for-the-leak-test',
    FILES_SIGNING_SECRET: SIGNING_SECRET,
    SESSION_TOKEN_SECRET: SESSION_SECRET,
    LOG_LEVEL: 'debug',
    PICWISH_TIMEOUT_MS: '3000',
  },
  logger: createLogger('debug', { write: (line: string) => void logLines.push(line) }),
});
const itPage = stackTest({});

describe('secrets stay out of responses, logs and metrics', () => {
  const transcript = new Transcript();

  itLogged(
    'writes none of the PicWish key, the gateway keys or the signing secret anywhere, even around failures',
    async ({ stack }) => {
      const alpha = bearer(TENANTS.alpha);

      // Refused requests: no key, a wrong key, a key in the wrong place, on several transports.
      await transcript.gql(stack, '{ sceneTypes { id } }', {}, {});
      await transcript.gql(stack, '{ sceneTypes { id } }', {}, bearer(WRONG_KEY));
      await transcript.gql(stack, '{ sceneTypes { id } }', {}, { 'x-api-key': TENANTS.alpha });
      await transcript.fetch(`${stack.url}/graphql/stream`, { method: 'PUT', headers: bearer(WRONG_KEY) });
      await transcript.fetch(`${stack.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...alpha },
        body: '{"query": broken',
      });
      await transcript.gql(stack, '{ nope }', {}, alpha);

      // A task that succeeds, with its result fetched through the signed link.
      const good = await mustGenerate(stack, TENANTS.alpha);
      const done = await eventually(async () => {
        const answer = await transcript.gql(stack, TASK, { id: good }, alpha);
        const task = answer.body.data?.backgroundTask as { state: string; images: { url: string }[] } | null;
        return task && task.state !== 'QUEUED' && task.state !== 'PROCESSING' ? task : undefined;
      });
      expect(done.state).toBe('SUCCEEDED');
      const link = done.images[0]?.url as string;
      expect((await transcript.fetch(link)).status).toBe(200);
      // A tampered link is refused.
      await transcript.fetch(link.replace(/sig=[^&]+/, 'sig=forged'));

      // PicWish refusing the key (401) makes the task fail; the failure must not echo the key.
      stack.engine.faults.createFaults.push({ status: 401 });
      const refused = await mustGenerate(stack, TENANTS.alpha);
      const failed = await eventually(async () => {
        const answer = await transcript.gql(stack, TASK, { id: refused }, alpha);
        const task = answer.body.data?.backgroundTask as {
          state: string;
          error: { code: string } | null;
        } | null;
        return task?.state === 'FAILED' ? task : undefined;
      });
      expect(failed.error?.code).toEqual(expect.any(String));

      // A subscription, another tenant's view, and the operator endpoints.
      await sseUntil(
        `${stack.url}/graphql`,
        {
          headers: alpha,
          body: JSON.stringify({
            query: 'subscription($id: ID!) { backgroundTaskUpdated(id: $id) { id state } }',
            variables: { id: good },
          }),
        },
        (events) => events.some((e) => e.event === 'complete'),
      );
      await transcript.gql(stack, TASK, { id: good }, bearer(TENANTS.beta));
      await generate(stack, WRONG_KEY);

      // An end user's session token (#23), minted outside the transcript (its answer holds it):
      // used for a task, a stream and a forbidden operation, and presented tampered.
      const minted = await stack.gql<{ createSessionToken: { token: string } }>(
        'mutation { createSessionToken(input: { subject: "leak-test-user" }) { token } }',
        {},
        alpha,
      );
      const session = minted.body.data?.createSessionToken.token as string;
      const own = await mustGenerate(stack, session);
      await transcript.gql(stack, TASK, { id: own }, bearer(session));
      await transcript.gql(stack, 'mutation { rotateWebhookSecret { secret } }', {}, bearer(session));
      await transcript.gql(stack, '{ viewer { name } }', {}, bearer(`${session}x`));
      await sseUntil(
        `${stack.url}/graphql/stream`,
        {
          headers: bearer(session),
          body: JSON.stringify({
            query: 'subscription($id: ID!) { backgroundTaskUpdated(id: $id) { id state } }',
            variables: { id: own },
          }),
        },
        (events) => events.some((e) => e.event === 'complete'),
      );
      const operator = { headers: { authorization: 'Bearer metrics-token-for-the-leak-test' } };
      const metrics = await transcript.fetch(`${stack.url}/metrics`, operator);
      expect(metrics.text).toContain('graphql_operations_total');
      await transcript.fetch(`${stack.url}/readyz`, operator);
      await transcript.fetch(`${stack.url}/healthz`);

      const secrets = {
        'PicWish key': stack.engine.apiKey,
        'gateway key alpha': TENANTS.alpha,
        'gateway key beta': TENANTS.beta,
        'presented wrong key': WRONG_KEY,
        'signing secret': SIGNING_SECRET,
        'session token secret': SESSION_SECRET,
        'session token': session,
      };
      // The log at debug level really did record the traffic (so the search below means something).
      const log = logLines.join('');
      expect(logLines.length).toBeGreaterThan(5);
      expect(log).toContain('task failed');
      const everything = { log, responses: transcript.texts.join('\n'), metrics: metrics.text };
      for (const [where, text] of Object.entries(everything)) {
        for (const [what, secret] of Object.entries(secrets)) {
          expect(text.includes(secret), `${what} appears in ${where}`).toBe(false);
        }
      }
    },
  );
});

describe('production masks internals', () => {
  // Both tests compare a production gateway with a development one, side by side: two stacks at
  // once, which the one-stack fixture does not give, so this block starts and closes its own.
  const stacks: Record<string, TestStack> = {};

  beforeAll(async () => {
    stacks.production = await startStack({ env: { NODE_ENV: 'production' } });
    stacks.development = await startStack({ env: { NODE_ENV: 'development' } });
  });
  afterAll(async () => {
    await stacks.production?.close();
    await stacks.development?.close();
  });

  async function brokenJson(stack: TestStack) {
    const response = await fetch(`${stack.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: '{"query": "{ __typename }", "secret-ish body',
    });
    return { status: response.status, text: await response.text() };
  }

  it('answers a broken JSON body with 400 BAD_REQUEST and, in production, without the parser’s originalError', async () => {
    const production = await brokenJson(stacks.production as TestStack);
    expect(production.status).toBe(400);
    const body = JSON.parse(production.text) as { errors: GraphQLErrorShape[] };
    expect(body.errors[0]?.extensions?.code).toBe('BAD_REQUEST');
    expect(body.errors[0]?.extensions).not.toHaveProperty('originalError');
    expect(production.text).not.toContain('secret-ish');
    expect(production.text).not.toMatch(/stack|SyntaxError/);

    // Development keeps the parser's detail for people debugging a client.
    const development = await brokenJson(stacks.development as TestStack);
    expect(development.status).toBe(400);
    expect(development.text).toContain('originalError');
  });

  it('masks an unexpected failure as INTERNAL_SERVER_ERROR with a request id and no detail in production', async () => {
    for (const [mode, stack] of Object.entries(stacks)) {
      // Take the spool directory away: storing an upload now fails in a way no one planned for.
      rmSync(join(stack.dataDir, 'spool'), { recursive: true, force: true });
      const answer = await generate(stack, null);
      const error = answer.errors[0];
      expect(error?.extensions?.code, mode).toBe('INTERNAL_SERVER_ERROR');
      expect(error?.extensions?.requestId, mode).toEqual(expect.any(String));
      const text = JSON.stringify(answer.errors);
      if (mode === 'production') {
        expect(text).not.toContain(stack.dataDir);
        expect(text).not.toMatch(/ENOENT|stack|originalError/);
        expect(error?.extensions).not.toHaveProperty('detail');
      }
    }
  });
});

describe('the GraphiQL page', () => {
  itPage(
    'carries a Content-Security-Policy that allows only scripts from the gateway, plus the usual security headers',
    async ({ stack }) => {
      const response = await fetch(`${stack.url}/graphql`, { headers: { accept: 'text/html' } });
      await response.text();
      const policy = response.headers.get('content-security-policy') ?? '';
      expect(policy).toMatch(/script-src 'self'[^;]*;/);
      expect(policy).not.toMatch(/script-src[^;]*'unsafe-inline'/);
      expect(policy).toContain("connect-src 'self'");
      expect(policy).toContain("frame-ancestors 'none'");
      expect(policy).toContain("object-src 'none'");
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    },
  );

  itPage.skipIf(!hasChromium)(
    'renders and runs a query in Chromium under that policy, loading nothing from outside the gateway',
    async ({ stack }) => {
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        const violations: string[] = [];
        const foreign: string[] = [];
        page.on('console', (message) => {
          if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
        });
        page.on('request', (request) => {
          const url = request.url();
          if (!url.startsWith(stack.url) && !/^(data|blob):/.test(url)) foreign.push(url);
        });
        await page.goto(`${stack.url}/graphql?query=${encodeURIComponent('{ sceneTypes { id } }')}`, {
          timeout: 40_000,
        });
        await page.waitForSelector('.graphiql-container', { timeout: 40_000 });
        // The request-headers editor is there, where a person enters "Authorization: Bearer <key>".
        expect(await page.getByText('Headers', { exact: true }).count()).toBeGreaterThan(0);
        await page.click('.graphiql-execute-button');
        await page.waitForFunction(
          () => (document.body.textContent ?? '').includes('"sceneTypes"'),
          undefined,
          {
            timeout: 30_000,
          },
        );
        expect(violations).toEqual([]);
        expect(foreign).toEqual([]);
      } finally {
        await browser.close();
      }
    },
    120_000,
  );
});
