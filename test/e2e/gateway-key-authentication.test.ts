import { request as httpRequest } from 'node:http';
import { describe, expect } from 'vitest';
import { DISCARD_LIMIT_BYTES } from '../../src/http/refusal.js';
import { generateUpload } from '../support/fixtures.js';
import type { GraphQLErrorShape } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import { bearer, mustGenerate, TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';
import { CANCEL, SUBSCRIBE, TASK } from './tenant-operations.js';

/** Gateway keys (GATEWAY_API_KEYS): every transport refuses a request without a valid key with 401 UNAUTHENTICATED. */

const WRONG_KEY = 'not-a-configured-key-0123456789';

/** Every way of presenting no valid key. */
const BAD_CREDENTIALS: Record<string, Record<string, string>> = {
  'no Authorization header': {},
  'an unknown key': bearer(WRONG_KEY),
  'a key in the wrong scheme': { authorization: `Basic ${TENANTS.alpha}` },
  'an empty bearer': { authorization: 'Bearer ' },
};

/** Where a transport sends its request: the gateway, and a task of alpha's to name. */
interface Target {
  url: string;
  taskId: string;
}

function expectUnauthenticated(status: number, errors: GraphQLErrorShape[] | undefined): void {
  expect(status).toBe(401);
  expect(errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
}

async function answer(response: Response): Promise<{ status: number; errors?: GraphQLErrorShape[] }> {
  const text = await response.text();
  return { status: response.status, ...(text ? (JSON.parse(text) as { errors?: GraphQLErrorShape[] }) : {}) };
}

const it = stackTest({
  engine: { durationMs: 60_000 },
  env: { GATEWAY_API_KEYS: TWO_TENANT_KEYS },
}).extend<{ taskId: string }>({
  // One task of alpha's for the whole file, still running while the transports name it.
  taskId: [async ({ stack }, use) => use(await mustGenerate(stack, TENANTS.alpha)), { scope: 'file' }],
});

describe('gateway keys', () => {
  /** Each transport as a request that carries `headers` (and nothing else that authenticates). */
  const transports: Record<string, (at: Target, headers: Record<string, string>) => Promise<Response>> = {
    'POST query': (at, headers) =>
      fetch(`${at.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: TASK, variables: { id: at.taskId } }),
      }),
    'POST mutation': (at, headers) =>
      fetch(`${at.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: CANCEL, variables: { id: at.taskId } }),
      }),
    'GET query': (at, headers) =>
      fetch(`${at.url}/graphql?query=${encodeURIComponent('{ sceneTypes { id } }')}`, { headers }),
    'batched POST': (at, headers) =>
      fetch(`${at.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]),
      }),
    'multipart upload': (at, headers) => {
      const form = new FormData();
      form.set(
        'operations',
        JSON.stringify({ query: generateUpload(), variables: { file: null, batch: 1 } }),
      );
      form.set('map', JSON.stringify({ 0: ['variables.file'] }));
      form.set('0', new Blob([new Uint8Array(64)], { type: 'image/png' }), 'f.png');
      return fetch(`${at.url}/graphql`, {
        method: 'POST',
        body: form,
        headers: { 'apollo-require-preflight': 'true', ...headers },
      });
    },
    'SSE subscription on /graphql (POST)': (at, headers) =>
      fetch(`${at.url}/graphql`, {
        method: 'POST',
        headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: SUBSCRIBE, variables: { id: at.taskId } }),
      }),
    'SSE subscription on /graphql (GET)': (at, headers) =>
      fetch(
        `${at.url}/graphql?query=${encodeURIComponent(SUBSCRIBE)}&variables=${encodeURIComponent(JSON.stringify({ id: at.taskId }))}`,
        { headers: { accept: 'text/event-stream', ...headers } },
      ),
    'graphql-sse distinct connections (/graphql/stream)': (at, headers) =>
      fetch(`${at.url}/graphql/stream`, {
        method: 'POST',
        headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: SUBSCRIBE, variables: { id: at.taskId } }),
      }),
    'graphql-sse single connection: PUT reservation': (at, headers) =>
      fetch(`${at.url}/graphql/stream`, { method: 'PUT', headers }),
  };

  for (const [transport, send] of Object.entries(transports)) {
    it(`refuses ${transport} without a valid key with 401 UNAUTHENTICATED`, async ({ stack, taskId }) => {
      const at = { url: stack.url, taskId };
      for (const [, headers] of Object.entries(BAD_CREDENTIALS)) {
        const refused = await answer(await send(at, headers));
        expectUnauthenticated(refused.status, refused.errors);
      }
      const accepted = await send(at, bearer(TENANTS.alpha));
      expect(accepted.status).toBeLessThan(300);
      await accepted.body?.cancel();
    });
  }

  it('refuses the single-connection stream and its operations when they come without the key that reserved them', async ({
    stack,
    taskId,
  }) => {
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

  it('answers an unauthenticated endless upload at once and cuts it off after a bounded discard', async ({
    stack,
  }) => {
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

  it('answers 401 with a WWW-Authenticate: Bearer challenge and no hint about which keys exist', async ({
    stack,
    taskId,
  }) => {
    const at = { url: stack.url, taskId };
    const missing = await transports['POST query']?.(at, {});
    const wrong = await transports['POST query']?.(at, bearer(WRONG_KEY));
    expect(missing?.headers.get('www-authenticate')).toBe('Bearer');
    const wrongBody = await wrong?.text();
    expect(wrongBody).not.toContain('alpha');
    expect(wrongBody).not.toContain('beta');
    await missing?.body?.cancel();
  });

  it('serves the GraphiQL page without a key so a person can enter one', async ({ stack }) => {
    const page = await fetch(`${stack.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('PicWish background gateway');
  });

  it('never runs an operation for a keyless GET that asks for HTML: it gets the page, not data', async ({
    stack,
    taskId,
  }) => {
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

  it('lets a CORS preflight through without a key (browsers never send one on OPTIONS)', async ({
    stack,
  }) => {
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
