import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayKeys } from '../../src/auth/gateway-keys.js';
import { loadConfig } from '../../src/config/config.js';
import { DISCARD_LIMIT_BYTES } from '../../src/http/refusal.js';
import { generateUpload } from '../support/fixtures.js';
import { type GraphQLErrorShape, startStack, type TestStack } from '../support/harness.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-db.js';
import { bearer, generate, mustGenerate, sseUntil, TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';

const TASK = 'query Task($id: ID!) { backgroundTask(id: $id) { id state } }';
const SUBSCRIBE = 'subscription Follow($id: ID!) { backgroundTaskUpdated(id: $id) { id state } }';
const CANCEL = 'mutation Cancel($id: ID!) { cancelBackgroundTask(id: $id) { id state } }';
const DELETE = 'mutation Delete($id: ID!) { deleteBackgroundTask(id: $id) }';
const LIST = `query List($first: Int!, $after: String, $state: BackgroundTaskState) {
  backgroundTasks(first: $first, after: $after, state: $state) {
    edges { cursor node { id state } }
    pageInfo { hasNextPage endCursor }
  }
}`;

type Connection = {
  backgroundTasks: {
    edges: { cursor: string; node: { id: string; state: string } }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
};

const WRONG_KEY = 'not-a-configured-key-0123456789';

/** Every way of presenting no valid key. */
const BAD_CREDENTIALS: Record<string, Record<string, string>> = {
  'no Authorization header': {},
  'an unknown key': bearer(WRONG_KEY),
  'a key in the wrong scheme': { authorization: `Basic ${TENANTS.alpha}` },
  'an empty bearer': { authorization: 'Bearer ' },
};

function expectUnauthenticated(status: number, errors: GraphQLErrorShape[] | undefined): void {
  expect(status).toBe(401);
  expect(errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
}

async function answer(response: Response): Promise<{ status: number; errors?: GraphQLErrorShape[] }> {
  const text = await response.text();
  return { status: response.status, ...(text ? (JSON.parse(text) as { errors?: GraphQLErrorShape[] }) : {}) };
}

describe('gateway keys', () => {
  let stack: TestStack;
  let taskId: string;

  beforeAll(async () => {
    stack = await startStack({
      engine: { durationMs: 60_000 },
      env: { GATEWAY_API_KEYS: TWO_TENANT_KEYS },
    });
    taskId = await mustGenerate(stack, TENANTS.alpha);
  });
  afterAll(() => stack?.close());

  /** Each transport as a request that carries `headers` (and nothing else that authenticates). */
  const transports: Record<string, (headers: Record<string, string>) => Promise<Response>> = {
    'POST query': (headers) =>
      fetch(`${stack.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: TASK, variables: { id: taskId } }),
      }),
    'POST mutation': (headers) =>
      fetch(`${stack.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: CANCEL, variables: { id: taskId } }),
      }),
    'GET query': (headers) =>
      fetch(`${stack.url}/graphql?query=${encodeURIComponent('{ sceneTypes { id } }')}`, { headers }),
    'batched POST': (headers) =>
      fetch(`${stack.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]),
      }),
    'multipart upload': (headers) => {
      const form = new FormData();
      form.set(
        'operations',
        JSON.stringify({ query: generateUpload(), variables: { file: null, batch: 1 } }),
      );
      form.set('map', JSON.stringify({ 0: ['variables.file'] }));
      form.set('0', new Blob([new Uint8Array(64)], { type: 'image/png' }), 'f.png');
      return fetch(`${stack.url}/graphql`, {
        method: 'POST',
        body: form,
        headers: { 'apollo-require-preflight': 'true', ...headers },
      });
    },
    'SSE subscription on /graphql (POST)': (headers) =>
      fetch(`${stack.url}/graphql`, {
        method: 'POST',
        headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: SUBSCRIBE, variables: { id: taskId } }),
      }),
    'SSE subscription on /graphql (GET)': (headers) =>
      fetch(
        `${stack.url}/graphql?query=${encodeURIComponent(SUBSCRIBE)}&variables=${encodeURIComponent(JSON.stringify({ id: taskId }))}`,
        { headers: { accept: 'text/event-stream', ...headers } },
      ),
    'graphql-sse distinct connections (/graphql/stream)': (headers) =>
      fetch(`${stack.url}/graphql/stream`, {
        method: 'POST',
        headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: SUBSCRIBE, variables: { id: taskId } }),
      }),
    'graphql-sse single connection: PUT reservation': (headers) =>
      fetch(`${stack.url}/graphql/stream`, { method: 'PUT', headers }),
  };

  for (const [transport, send] of Object.entries(transports)) {
    it(`refuses ${transport} without a valid key with 401 UNAUTHENTICATED`, async () => {
      for (const [, headers] of Object.entries(BAD_CREDENTIALS)) {
        const refused = await answer(await send(headers));
        expectUnauthenticated(refused.status, refused.errors);
      }
      const accepted = await send(bearer(TENANTS.alpha));
      expect(accepted.status).toBeLessThan(300);
      await accepted.body?.cancel();
    });
  }

  it('refuses the single-connection stream and its operations when they come without the key that reserved them', async () => {
    const reserved = await fetch(`${stack.url}/graphql/stream`, {
      method: 'PUT',
      headers: bearer(TENANTS.alpha),
    });
    expect(reserved.status).toBe(201);
    const token = await reserved.text();

    const stream = await fetch(`${stack.url}/graphql/stream?token=${encodeURIComponent(token)}`, {
      headers: { accept: 'text/event-stream' },
    });
    expectUnauthenticated(stream.status, (await answer(stream)).errors);

    const operation = await fetch(`${stack.url}/graphql/stream`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-graphql-event-stream-token': token,
        ...bearer(WRONG_KEY),
      },
      body: JSON.stringify({ query: SUBSCRIBE, variables: { id: taskId }, extensions: { operationId: '1' } }),
    });
    expectUnauthenticated(operation.status, (await answer(operation)).errors);
  });

  it('answers an unauthenticated endless upload at once and cuts it off after a bounded discard', async () => {
    const url = new URL('/graphql', stack.url);
    const outcome = await new Promise<{
      status: number | null;
      sentAtAnswer: number | null;
      sentBytes: number;
      cutByGateway: boolean;
    }>((resolve) => {
      let status: number | null = null;
      let sentAtAnswer: number | null = null;
      let sentBytes = 0;
      let gaveUp = false;
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const req = httpRequest(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      });
      // Send without end, as fast as the connection takes it (a write that fills the buffer counts too).
      const pump = () => {
        while (!req.destroyed) {
          sentBytes += chunk.length;
          if (!req.write(chunk)) return;
        }
      };
      req.on('drain', pump);
      req.on('response', (res) => {
        status = res.statusCode ?? null;
        sentAtAnswer = sentBytes;
        res.resume();
      });
      req.on('close', () => resolve({ status, sentAtAnswer, sentBytes, cutByGateway: !gaveUp }));
      req.on('error', () => undefined);
      // Only a safety net: the gateway is expected to cut the connection long before.
      setTimeout(() => {
        gaveUp = true;
        req.destroy();
      }, 15_000).unref();
      pump();
    });
    expect(outcome.status).toBe(401);
    // At once: answered before the gateway could have read the body up to its discard bound.
    expect(outcome.sentAtAnswer).not.toBeNull();
    expect(outcome.sentAtAnswer!).toBeLessThan(DISCARD_LIMIT_BYTES);
    // Cut off by the gateway, not by this client giving up.
    expect(outcome.cutByGateway).toBe(true);
    // What the client could push before the cut: the discard bound plus what sat in socket buffers.
    expect(outcome.sentBytes).toBeLessThan(DISCARD_LIMIT_BYTES + 16 * 1024 * 1024);
  });

  it('answers 401 with a WWW-Authenticate: Bearer challenge and no hint about which keys exist', async () => {
    const missing = await transports['POST query']?.({});
    const wrong = await transports['POST query']?.(bearer(WRONG_KEY));
    expect(missing?.headers.get('www-authenticate')).toBe('Bearer');
    const wrongBody = await wrong?.text();
    expect(wrongBody).not.toContain('alpha');
    expect(wrongBody).not.toContain('beta');
    await missing?.body?.cancel();
  });

  it('serves the GraphiQL page without a key so a person can enter one', async () => {
    const page = await fetch(`${stack.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('PicWish background gateway');
  });

  it('never runs an operation for a keyless GET that asks for HTML: it gets the page, not data', async () => {
    const query = encodeURIComponent(`{ backgroundTask(id: "${taskId}") { id } }`);
    for (const accept of [
      'text/html',
      'application/json, text/html',
      'application/graphql-response+json, text/html;q=0.1',
    ]) {
      const response = await fetch(`${stack.url}/graphql?query=${query}`, { headers: { accept } });
      expect(response.headers.get('content-type')).toContain('text/html');
      expect(await response.text()).not.toContain(taskId);
    }
  });

  it('lets a CORS preflight through without a key (browsers never send one on OPTIONS)', async () => {
    const preflight = await fetch(`${stack.url}/graphql`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:5173',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(preflight.status).toBe(204);
  });
});

describe('gateway key configuration', () => {
  it('reads tenant:key pairs from GATEWAY_API_KEYS or from the file GATEWAY_API_KEYS_FILE names', () => {
    const inline = loadConfig({ GATEWAY_API_KEYS: TWO_TENANT_KEYS });
    expect(inline.ok && inline.value.auth.apiKeys.map((k) => k.tenant)).toEqual(['alpha', 'beta']);

    const fromFile = loadConfig({ GATEWAY_API_KEYS_FILE: '/run/secrets/keys' }, (path) => {
      expect(path).toBe('/run/secrets/keys');
      return `# one per line\nalpha:${TENANTS.alpha}\n\nbeta:${TENANTS.beta}\n`;
    });
    expect(fromFile.ok && fromFile.value.auth.apiKeys).toEqual([
      { tenant: 'alpha', key: TENANTS.alpha },
      { tenant: 'beta', key: TENANTS.beta },
    ]);

    const both = loadConfig({ GATEWAY_API_KEYS: TWO_TENANT_KEYS, GATEWAY_API_KEYS_FILE: '/x' }, () => '');
    expect(both.ok).toBe(false);
  });

  it('defaults to 60 tasks per minute and 20 unfinished tasks per tenant', () => {
    const config = loadConfig({});
    expect(config.ok && config.value.auth).toMatchObject({ rateLimitPerMinute: 60, maxActiveTasks: 20 });
    const tuned = loadConfig({ TENANT_RATE_LIMIT_PER_MINUTE: '5', TENANT_MAX_ACTIVE_TASKS: '2' });
    expect(tuned.ok && tuned.value.auth).toMatchObject({ rateLimitPerMinute: 5, maxActiveTasks: 2 });
    expect(loadConfig({ TENANT_RATE_LIMIT_PER_MINUTE: '0' }).ok).toBe(false);
  });

  it('refuses a malformed key entry without echoing the secret in the message', () => {
    const secret = 'short-secret';
    const result = loadConfig({ GATEWAY_API_KEYS: `alpha:${secret}` });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.variable).toBe('GATEWAY_API_KEYS');
      expect(result.error.message).not.toContain(secret);
    }
  });

  it('accepts several keys for one tenant (rotation) but refuses one key for two entries', () => {
    const rotating = loadConfig({ GATEWAY_API_KEYS: `alpha:${TENANTS.alpha},alpha:${TENANTS.beta}` });
    expect(rotating.ok).toBe(true);
    const keys = new GatewayKeys(rotating.ok ? rotating.value.auth.apiKeys : []);
    expect(keys.authenticate(`Bearer ${TENANTS.alpha}`)).toEqual({ ok: true, value: 'alpha' });
    expect(keys.authenticate(`Bearer ${TENANTS.beta}`)).toEqual({ ok: true, value: 'alpha' });

    const shared = loadConfig({ GATEWAY_API_KEYS: `alpha:${TENANTS.alpha},beta:${TENANTS.alpha}` });
    expect(shared.ok).toBe(false);
    if (!shared.ok) {
      expect(shared.error.message).toMatch(/entry 2 repeats the key of entry 1/);
      expect(shared.error.message).not.toContain(TENANTS.alpha);
    }
  });

  it('matches a presented key to its tenant and rejects near misses', () => {
    const keys = new GatewayKeys([
      { tenant: 'alpha', key: TENANTS.alpha },
      { tenant: 'beta', key: TENANTS.beta },
    ]);
    expect(keys.authenticate(`Bearer ${TENANTS.beta}`)).toEqual({ ok: true, value: 'beta' });
    expect(keys.authenticate(`bearer ${TENANTS.alpha}`)).toEqual({ ok: true, value: 'alpha' });
    for (const bad of [
      `Bearer ${TENANTS.alpha}x`,
      `Bearer ${TENANTS.alpha.slice(0, -1)}`,
      TENANTS.alpha,
      undefined,
    ]) {
      expect(keys.authenticate(bad).ok).toBe(false);
    }
    expect(new GatewayKeys([]).authenticate(undefined)).toEqual({ ok: true, value: 'local' });
  });
});

describe('anonymous mode on a public interface', () => {
  it('refuses a non-loopback HOST without gateway keys, saying why and how to fix it', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'gateway.example.com']) {
      const result = loadConfig({ HOST: host });
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.variable).toBe('HOST');
        expect(result.error.message).toContain('GATEWAY_API_KEYS');
        expect(result.error.message).toContain('ALLOW_ANONYMOUS=true');
      }
    }
  });

  it('starts on loopback without keys, on a public HOST with keys, or with ALLOW_ANONYMOUS=true', () => {
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]']) {
      expect(loadConfig({ HOST: host }).ok).toBe(true);
    }
    expect(loadConfig({ HOST: '0.0.0.0', GATEWAY_API_KEYS: TWO_TENANT_KEYS }).ok).toBe(true);
    expect(loadConfig({ HOST: '0.0.0.0', ALLOW_ANONYMOUS: 'true' }).ok).toBe(true);
  });

  it('exits with code 78 and the reason when the process is started on 0.0.0.0 without keys', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gw-host-'));
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: process.cwd(),
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          HOST: '0.0.0.0',
          PORT: '0',
          DATA_DIR: dataDir,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const killer = setTimeout(() => child.kill('SIGKILL'), 45_000);
      const code = await new Promise<number | null>((resolve) =>
        child.on('exit', (exitCode) => resolve(exitCode)),
      );
      clearTimeout(killer);
      expect(code).toBe(78);
      expect(stderr).toContain('HOST=0.0.0.0');
      expect(stderr).toContain('GATEWAY_API_KEYS');
      expect(stderr).toContain('ALLOW_ANONYMOUS=true');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('anonymous local mode keeps other sites out', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ env: { PUBLIC_URL: 'https://gateway.example.test' } });
  });
  afterAll(() => stack?.close());

  const query = JSON.stringify({ query: '{ __typename }' });

  it("refuses a request from another site's page with 403 FORBIDDEN_ORIGIN, preflight included", async () => {
    const post = await fetch(`${stack.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body: query,
    });
    expect(post.status).toBe(403);
    expect(await post.text()).toContain('FORBIDDEN_ORIGIN');
    const preflight = await fetch(`${stack.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const stream = await fetch(`${stack.url}/graphql/stream`, { method: 'PUT', headers: { origin: 'null' } });
    expect(stream.status).toBe(403);
  });

  it('answers pages on loopback origins and on PUBLIC_URL, and clients that send no Origin', async () => {
    for (const origin of [
      'http://localhost:5173',
      'http://127.0.0.1:8080',
      'https://gateway.example.test',
      null,
    ]) {
      const response = await fetch(`${stack.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(origin ? { origin } : {}) },
        body: query,
      });
      expect(response.status, String(origin)).toBe(200);
      expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
    }
  });

  it('refuses requests addressed to a non-loopback Host name (DNS rebinding)', async () => {
    const rebound = await rawPost(stack.url, 'attacker.example:4000', query);
    expect(rebound.status).toBe(403);
    expect(rebound.body).toContain('FORBIDDEN_ORIGIN');
    expect((await rawPost(stack.url, 'localhost', query)).status).toBe(200);
    expect((await rawPost(stack.url, 'gateway.example.test', query)).status).toBe(200);
  });

  it('lets any origin through once gateway keys protect the gateway', async () => {
    const keyed = await startStack({ env: { GATEWAY_API_KEYS: TWO_TENANT_KEYS } });
    try {
      const response = await fetch(`${keyed.url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          origin: 'https://app.example',
          ...bearer(TENANTS.alpha),
        },
        body: query,
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example');
    } finally {
      await keyed.close();
    }
  });
});

/** A JSON POST with a chosen Host header (fetch does not allow setting it). */
function rawPost(base: string, host: string, body: string): Promise<{ status: number; body: string }> {
  const url = new URL('/graphql', base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        headers: { host, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('task ownership', () => {
  let stack: TestStack;
  const alpha = bearer(TENANTS.alpha);
  const beta = bearer(TENANTS.beta);

  beforeAll(async () => {
    // Tasks run for a minute, so they are still unfinished while the tests look at them.
    stack = await startStack({
      engine: { durationMs: 60_000 },
      env: { GATEWAY_API_KEYS: TWO_TENANT_KEYS, TENANT_MAX_ACTIVE_TASKS: '100' },
    });
  });
  afterAll(() => stack?.close());

  it("reads another tenant's task as null, without an error", async () => {
    const id = await mustGenerate(stack, TENANTS.alpha);
    const mine = await stack.gql(TASK, { id }, alpha);
    expect(mine.body.data).toEqual({ backgroundTask: { id, state: expect.any(String) } });
    const theirs = await stack.gql(TASK, { id }, beta);
    expect(theirs.status).toBe(200);
    expect(theirs.body.errors).toBeUndefined();
    expect(theirs.body.data).toEqual({ backgroundTask: null });
  });

  it("answers a subscription to another tenant's task with NOT_FOUND on both SSE transports", async () => {
    const id = await mustGenerate(stack, TENANTS.alpha);
    const body = JSON.stringify({ query: SUBSCRIBE, variables: { id } });
    const done = (events: { event: string }[]) => events.some((e) => e.event === 'complete');
    const firstNext = (events: { event: string }[]) => events.some((e) => e.event === 'next');

    for (const path of ['/graphql', '/graphql/stream']) {
      const theirs = await sseUntil(`${stack.url}${path}`, { headers: beta, body }, done);
      expect(theirs.status).toBe(200);
      const next = theirs.events.find((e) => e.event === 'next')?.data as {
        data?: unknown;
        errors?: GraphQLErrorShape[];
      };
      expect(next.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(next.data ?? null).toBeNull();
      expect(theirs.events.at(-1)?.event).toBe('complete');

      const mine = await sseUntil(`${stack.url}${path}`, { headers: alpha, body }, firstNext);
      const snapshot = mine.events.find((e) => e.event === 'next')?.data as {
        data?: { backgroundTaskUpdated: { id: string } };
      };
      expect(snapshot.data?.backgroundTaskUpdated.id).toBe(id);
    }
  });

  it("answers a single-connection graphql-sse subscription to another tenant's task with NOT_FOUND", async () => {
    const id = await mustGenerate(stack, TENANTS.alpha);
    const reserved = await fetch(`${stack.url}/graphql/stream`, { method: 'PUT', headers: beta });
    const token = await reserved.text();
    const streaming = sseUntil(
      `${stack.url}/graphql/stream?token=${encodeURIComponent(token)}`,
      { method: 'GET', headers: beta },
      (events) => events.some((e) => e.event === 'complete'),
    );
    // The stream must be open before operations are accepted for it.
    const operation = await eventually202(() =>
      fetch(`${stack.url}/graphql/stream`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-graphql-event-stream-token': token, ...beta },
        body: JSON.stringify({ query: SUBSCRIBE, variables: { id }, extensions: { operationId: 'op1' } }),
      }),
    );
    expect(operation).toBe(202);
    const { events } = await streaming;
    const next = events.find((e) => e.event === 'next')?.data as {
      id: string;
      payload: { errors?: GraphQLErrorShape[] };
    };
    expect(next.id).toBe('op1');
    expect(next.payload.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it("refuses another tenant's single-connection stream token as unknown: no reading, no pushing", async () => {
    const reserved = await fetch(`${stack.url}/graphql/stream`, { method: 'PUT', headers: alpha });
    const token = await reserved.text();
    const again = await (
      await fetch(`${stack.url}/graphql/stream`, { method: 'PUT', headers: alpha })
    ).text();
    expect(again).not.toBe(token);

    const read = await fetch(`${stack.url}/graphql/stream?token=${encodeURIComponent(token)}`, {
      headers: { accept: 'text/event-stream', ...beta },
    });
    expect(read.status).toBe(404);
    await read.body?.cancel();
    const push = await fetch(`${stack.url}/graphql/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-graphql-event-stream-token': token, ...beta },
      body: JSON.stringify({ query: '{ __typename }', extensions: { operationId: 'x' } }),
    });
    expect(push.status).toBe(404);
    await push.body?.cancel();

    // The owner can still use it.
    const own = sseUntil(
      `${stack.url}/graphql/stream?token=${encodeURIComponent(token)}`,
      { method: 'GET', headers: alpha },
      (events) => events.some((e) => e.event === 'complete'),
    );
    const status = await eventually202(() =>
      fetch(`${stack.url}/graphql/stream`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-graphql-event-stream-token': token, ...alpha },
        body: JSON.stringify({ query: '{ __typename }', extensions: { operationId: 'mine' } }),
      }),
    );
    expect(status).toBe(202);
    const next = (await own).events.find((e) => e.event === 'next')?.data as { id: string; payload: unknown };
    expect(next).toEqual({ id: 'mine', payload: { data: { __typename: 'Query' } } });
  });

  it("cancels nothing and deletes nothing of another tenant's: cancel is null, delete is false", async () => {
    const id = await mustGenerate(stack, TENANTS.alpha);
    const cancel = await stack.gql(CANCEL, { id }, beta);
    expect(cancel.body).toEqual({ data: { cancelBackgroundTask: null } });
    const del = await stack.gql(DELETE, { id }, beta);
    expect(del.body).toEqual({ data: { deleteBackgroundTask: false } });

    const still = await stack.gql<{ backgroundTask: { state: string } }>(TASK, { id }, alpha);
    expect(still.body.data?.backgroundTask.state).not.toBe('CANCELLED');

    const own = await stack.gql<{ cancelBackgroundTask: { state: string } }>(CANCEL, { id }, alpha);
    expect(own.body.data?.cancelBackgroundTask.state).toBe('CANCELLED');
    const ownDelete = await stack.gql(DELETE, { id }, alpha);
    expect(ownDelete.body).toEqual({ data: { deleteBackgroundTask: true } });
    expect((await stack.gql(TASK, { id }, alpha)).body).toEqual({ data: { backgroundTask: null } });
  });

  it("lists only the caller's tasks, newest first, paging with after and filtering by state", async () => {
    // A fresh pair of tenants' view: record what exists, then add a known set.
    const before = await listAll(stack, alpha, null);
    const created: string[] = [];
    for (let i = 0; i < 3; i++) {
      created.push(await mustGenerate(stack, TENANTS.alpha));
      await mustGenerate(stack, TENANTS.beta);
    }
    const cancelled = created[1] as string;
    await stack.gql(CANCEL, { id: cancelled }, alpha);

    const all = await listAll(stack, alpha, null);
    expect(all.slice(0, 3)).toEqual([...created].reverse());
    expect(all.slice(3)).toEqual(before);

    const betaIds = new Set(await listAll(stack, beta, null));
    for (const id of all) expect(betaIds.has(id)).toBe(false);

    const first = await stack.gql<Connection>(LIST, { first: 2 }, alpha);
    const page1 = first.body.data?.backgroundTasks;
    expect(page1?.edges.map((e) => e.node.id)).toEqual([created[2], created[1]]);
    expect(page1?.pageInfo).toEqual({ hasNextPage: true, endCursor: created[1] });
    const second = await stack.gql<Connection>(LIST, { first: 1, after: page1?.pageInfo.endCursor }, alpha);
    expect(second.body.data?.backgroundTasks.edges.map((e) => e.node.id)).toEqual([created[0]]);

    const onlyCancelled = await listAll(stack, alpha, 'CANCELLED');
    expect(onlyCancelled).toContain(cancelled);
    expect(onlyCancelled).not.toContain(created[0]);
    expect(onlyCancelled).not.toContain(created[2]);
  });

  it("refuses another tenant's task id as a cursor as if it did not exist", async () => {
    const id = await mustGenerate(stack, TENANTS.alpha);
    const theirs = await stack.gql(LIST, { first: 5, after: id }, beta);
    expect(theirs.body.errors?.[0]?.extensions?.reason).toBe('INVALID_CURSOR');
    const unknown = await stack.gql(LIST, { first: 5, after: 'no-such-task' }, beta);
    expect(unknown.body.errors?.[0]?.message).toBe(theirs.body.errors?.[0]?.message);
  });

  it('keeps idempotency keys per tenant: the same key names different tasks for different tenants', async () => {
    const a1 = await mustGenerate(stack, TENANTS.alpha, 'order-42');
    const b1 = await mustGenerate(stack, TENANTS.beta, 'order-42');
    expect(b1).not.toBe(a1);
    expect(await mustGenerate(stack, TENANTS.alpha, 'order-42')).toBe(a1);
    expect(await mustGenerate(stack, TENANTS.beta, 'order-42')).toBe(b1);
  });
});

describe('per-tenant limits', () => {
  let stack: TestStack;
  const gamma = 'gamma-key-5a7c9e1b3d5f7a9c1e3b';
  const delta = 'delta-key-8c0e2a4c6e8a0c2e4a6c';

  beforeAll(async () => {
    stack = await startStack({
      engine: { durationMs: 60_000 },
      env: {
        GATEWAY_API_KEYS: `${TWO_TENANT_KEYS},gamma:${gamma},delta:${delta}`,
        TENANT_RATE_LIMIT_PER_MINUTE: '3',
        TENANT_MAX_ACTIVE_TASKS: '2',
      },
    });
  });
  afterAll(() => stack?.close());

  it('refuses a task over TENANT_MAX_ACTIVE_TASKS with RATE_LIMITED and retryAfterSeconds, for that tenant only', async () => {
    const first = await mustGenerate(stack, TENANTS.alpha);
    await mustGenerate(stack, TENANTS.alpha);
    const refused = await generate(stack, TENANTS.alpha);
    expect(refused.id).toBeNull();
    expect(refused.errors[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(refused.errors[0]?.message).toMatch(/unfinished/);
    expect(refused.errors[0]?.extensions?.retryAfterSeconds).toEqual(expect.any(Number));
    expect(refused.errors[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);

    // Another tenant is not affected.
    expect((await generate(stack, TENANTS.beta)).id).not.toBeNull();

    // Finishing one (here: cancelling it) frees a place.
    await stack.gql(CANCEL, { id: first }, bearer(TENANTS.alpha));
    expect((await generate(stack, TENANTS.alpha)).id).not.toBeNull();
  });

  it('refuses a task over TENANT_RATE_LIMIT_PER_MINUTE with RATE_LIMITED and a retryAfterSeconds within the minute', async () => {
    for (let i = 0; i < 3; i++) {
      const id = await mustGenerate(stack, gamma);
      // Cancelled at once, so only the per-minute limit can refuse the next one.
      await stack.gql(CANCEL, { id }, bearer(gamma));
    }
    const refused = await generate(stack, gamma);
    expect(refused.id).toBeNull();
    const error = refused.errors[0];
    expect(error?.extensions?.code).toBe('RATE_LIMITED');
    expect(error?.message).toMatch(/per minute/);
    const retry = error?.extensions?.retryAfterSeconds as number;
    expect(Number.isInteger(retry)).toBe(true);
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
  });

  it('holds both limits against a burst of parallel requests, not only against sequential ones', async () => {
    const burst = await Promise.all(Array.from({ length: 8 }, () => generate(stack, delta)));
    const created = burst.filter((answer) => answer.id !== null);
    // At most 2 unfinished at once (and at most 3 per minute): a burst must not slip past either.
    expect(created).toHaveLength(2);
    for (const refused of burst.filter((answer) => answer.id === null)) {
      expect(refused.errors[0]?.extensions?.code).toBe('RATE_LIMITED');
    }
  });

  it('does not count idempotent replays against the per-minute limit', async () => {
    // beta created one task in the first test; this is its second.
    const id = await mustGenerate(stack, TENANTS.beta, 'replay-me');
    await stack.gql(CANCEL, { id }, bearer(TENANTS.beta));
    for (let i = 0; i < 3; i++) expect(await mustGenerate(stack, TENANTS.beta, 'replay-me')).toBe(id);
    // The replays created nothing, so the third task of the minute is still allowed...
    const third = await mustGenerate(stack, TENANTS.beta);
    await stack.gql(CANCEL, { id: third }, bearer(TENANTS.beta));
    // ...and the fourth is not.
    expect((await generate(stack, TENANTS.beta)).errors[0]?.extensions?.code).toBe('RATE_LIMITED');
    // Even over the limit, a replay still answers with the task it made (a client retrying after
    // a lost answer must get its task, not a refusal).
    expect(await mustGenerate(stack, TENANTS.beta, 'replay-me')).toBe(id);
  });
});

describe('per-tenant limits across several gateway processes (DATABASE_URL)', () => {
  let database: TestDatabase;
  const stacks: TestStack[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    const env = {
      GATEWAY_API_KEYS: TWO_TENANT_KEYS,
      DATABASE_URL: database.url,
      TENANT_RATE_LIMIT_PER_MINUTE: '3',
      TENANT_MAX_ACTIVE_TASKS: '100',
    };
    stacks.push(await startStack({ engine: { durationMs: 60_000 }, env }));
    stacks.push(await startStack({ engine: { durationMs: 60_000 }, env }));
  });
  afterAll(async () => {
    for (const stack of stacks) await stack.close();
    await database?.drop();
  });

  it('counts TENANT_RATE_LIMIT_PER_MINUTE for the whole cluster, not per process', async () => {
    const [a, b] = stacks as [TestStack, TestStack];
    await mustGenerate(a, TENANTS.alpha);
    await mustGenerate(b, TENANTS.alpha);
    await mustGenerate(a, TENANTS.alpha);
    const refused = await generate(b, TENANTS.alpha);
    expect(refused.id).toBeNull();
    expect(refused.errors[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(refused.errors[0]?.extensions?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    // Another tenant has its own window.
    expect((await generate(b, TENANTS.beta)).id).not.toBeNull();
  });
});

async function listAll(
  stack: TestStack,
  headers: Record<string, string>,
  state: string | null,
): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (;;) {
    const page: { body: { data?: Connection; errors?: GraphQLErrorShape[] } } = await stack.gql<Connection>(
      LIST,
      { first: 100, after, state },
      headers,
    );
    const connection = page.body.data?.backgroundTasks;
    if (!connection) throw new Error(JSON.stringify(page.body.errors));
    ids.push(...connection.edges.map((e) => e.node.id));
    if (!connection.pageInfo.hasNextPage) return ids;
    after = connection.pageInfo.endCursor;
  }
}

/** Retries a graphql-sse operation POST until the reserved stream is open (409 before that). */
async function eventually202(send: () => Promise<Response>): Promise<number> {
  const end = Date.now() + 10_000;
  for (;;) {
    const response = await send();
    await response.body?.cancel();
    if (response.status === 202 || Date.now() > end) return response.status;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
