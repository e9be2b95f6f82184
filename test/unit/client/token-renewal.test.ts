import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayClient, GatewayError } from '../../../client/index.js';
import { createSessionToken } from '../../../client/server.js';

/**
 * The kit's session tokens (client/http.ts `gatewayFetch`) against a small loopback stub that
 * speaks the gateway's refusal shape: HTTP 401 `UNAUTHENTICATED` with `reason` TOKEN_EXPIRED or
 * TOKEN_INVALID. The stub decides per request from the `Authorization` header it receives, so
 * each test says which tokens are expired; no real gateway is needed for the retry rules.
 */

interface Seen {
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: string;
}

const TASK = (state: string) => ({
  id: 'VGFzazox',
  state,
  stage: null,
  progress: state === 'SUCCEEDED' ? 100 : 40,
  queuePosition: null,
  estimatedStartAt: null,
  images: [],
  error: null,
});

let server: Server;
let url: string;
let seen: Seen[] = [];
/** Tokens the stub answers TOKEN_EXPIRED for; any other `Bearer` token but "forged" is good. */
let expired = new Set<string>();
/** How the stub answers a good stream request: a final task, or one update and then it stays open. */
let streamPlan: ('final' | 'hold')[] = [];
/** The stream the stub holds open, for a test to break as a proxy or a restart would. */
let held: ServerResponse | null = null;

function refuse(res: ServerResponse, reason: 'TOKEN_EXPIRED' | 'TOKEN_INVALID'): void {
  const message = reason === 'TOKEN_EXPIRED' ? 'The token has expired.' : 'The token is not valid.';
  res
    .writeHead(401, { 'content-type': 'application/json' })
    .end(JSON.stringify({ errors: [{ message, extensions: { code: 'UNAUTHENTICATED', reason } }] }));
}

async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let body = '';
  for await (const chunk of req) body += chunk;
  const authorization = req.headers.authorization;
  seen.push({ path: req.url ?? '', authorization, body });
  const token = authorization?.replace(/^Bearer /, '') ?? '';
  if (token === 'forged') return refuse(res, 'TOKEN_INVALID');
  if (expired.has(token)) return refuse(res, 'TOKEN_EXPIRED');
  if (req.url === '/graphql/stream') {
    res.writeHead(200, { 'content-type': 'text/event-stream', connection: 'keep-alive' });
    const plan = streamPlan.shift() ?? 'final';
    const next = (state: string) =>
      `event: next\ndata: ${JSON.stringify({ data: { backgroundTaskUpdated: TASK(state) } })}\n\n`;
    if (plan === 'hold') {
      held = res;
      res.write(next('PROCESSING'));
      return;
    }
    res.end(`${next('SUCCEEDED')}event: complete\ndata:\n\n`);
    return;
  }
  const { query } = JSON.parse(body) as { query: string };
  const data = query.includes('createSessionToken')
    ? { createSessionToken: { token: 'minted', subject: 'user-7', expiresAt: '2026-12-06T18:00:00.000Z' } }
    : { backgroundTask: TASK('SUCCEEDED') };
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data }));
}

beforeAll(async () => {
  server = createServer((req, res) => void answer(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

afterEach(() => {
  seen = [];
  expired = new Set();
  streamPlan = [];
  held = null;
});

/** A token function that hands out `t1`, `t2`, … and counts its calls. */
function tokens(): { source: () => Promise<string>; calls: () => number } {
  let n = 0;
  return {
    source: async () => {
      n += 1;
      return `t${n}`;
    },
    calls: () => n,
  };
}

describe('session tokens in the client kit', () => {
  it('sends the token as a Bearer header, asking the function once for many requests', async () => {
    const token = tokens();
    const client = createGatewayClient({ url, token: token.source });
    await client.task('VGFzazox');
    await client.task('VGFzazox');
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer t1', 'Bearer t1']);
    expect(token.calls()).toBe(1);
    client.dispose();
  });

  it('on 401 TOKEN_EXPIRED gets a new token once and sends the request again', async () => {
    expired = new Set(['t1']);
    const token = tokens();
    const client = createGatewayClient({ url, token: token.source });
    const task = await client.task('VGFzazox');
    expect(task?.state).toBe('SUCCEEDED');
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer t1', 'Bearer t2']);
    expect(seen[1]?.body).toBe(seen[0]?.body);
    expect(token.calls()).toBe(2);
    client.dispose();
  });

  it('renews once for a burst of requests that all met the expired token', async () => {
    expired = new Set(['t1']);
    const token = tokens();
    const client = createGatewayClient({ url, token: token.source });
    await client.task('VGFzazox');
    expired.add('t2');
    await Promise.all([client.task('a'), client.task('b'), client.task('c')]);
    expect(token.calls()).toBe(3);
    expect(seen.filter((s) => s.authorization === 'Bearer t3')).toHaveLength(3);
    client.dispose();
  });

  it('does not retry TOKEN_INVALID: the GatewayError carries the code and reason', async () => {
    const calls: number[] = [];
    const client = createGatewayClient({
      url,
      token: async () => {
        calls.push(1);
        return 'forged';
      },
    });
    const error = await client.task('VGFzazox').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_INVALID', status: 401 });
    expect(seen).toHaveLength(1);
    expect(calls).toHaveLength(1);
    client.dispose();
  });

  it('retries only once: a token still expired after renewal is refused as TOKEN_EXPIRED', async () => {
    expired = new Set(['t1', 't2', 't3']);
    const token = tokens();
    const client = createGatewayClient({ url, token: token.source });
    const error = await client.task('VGFzazox').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_EXPIRED' });
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer t1', 'Bearer t2']);
    client.dispose();
  });

  it('renews the token for a live stream refused at its start', async () => {
    expired = new Set(['t1']);
    const token = tokens();
    const client = createGatewayClient({ url, token: token.source });
    const task = await client.follow('VGFzazox');
    expect(task.state).toBe('SUCCEEDED');
    const streams = seen.filter((s) => s.path === '/graphql/stream');
    expect(streams.map((s) => s.authorization)).toEqual(['Bearer t1', 'Bearer t2']);
    client.dispose();
  });

  it('renews the token when a dropped live stream reconnects after the token expired', async () => {
    streamPlan = ['hold', 'final'];
    const token = tokens();
    const client = createGatewayClient({ url, token: token.source });
    const updates: string[] = [];
    const task = await client.follow('VGFzazox', {
      reconnectDelayMs: 1,
      onUpdate: (t) => {
        updates.push(t.state);
        // The first token runs out while the first stream is open, and then the stream breaks.
        expired.add('t1');
        held?.destroy();
      },
    });
    expect(task.state).toBe('SUCCEEDED');
    expect(updates).toEqual(['PROCESSING', 'SUCCEEDED']);
    const streams = seen.filter((s) => s.path === '/graphql/stream');
    expect(streams.map((s) => s.authorization)).toEqual(['Bearer t1', 'Bearer t1', 'Bearer t2']);
    client.dispose();
  });

  it('a live stream refused with TOKEN_INVALID rejects with the gateway own error, without renewing', async () => {
    const client = createGatewayClient({ url, token: 'forged' });
    const error = await client.follow('VGFzazox', { reconnectDelayMs: 1 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_INVALID', status: 401 });
    expect(seen).toHaveLength(1);
    client.dispose();
  });

  it('keeps `apiKey` working as an alias, read per request when it is a function', async () => {
    let key = 'k1';
    const client = createGatewayClient({ url, apiKey: () => key });
    await client.task('a');
    key = 'k2';
    await client.task('b');
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer k1', 'Bearer k2']);
    client.dispose();
  });

  it('createSessionToken (client/server) sends the mutation with the server key and returns the token', async () => {
    const minted = await createSessionToken({
      url,
      serverKey: 'server-key-123',
      subject: 'user-7',
      ttlSeconds: 600,
    });
    expect(minted).toEqual({ token: 'minted', subject: 'user-7', expiresAt: '2026-12-06T18:00:00.000Z' });
    expect(seen[0]?.authorization).toBe('Bearer server-key-123');
    const sent = JSON.parse(seen[0]?.body ?? '{}') as { query: string; variables: unknown };
    expect(sent.query).toMatch(/createSessionToken\(input: \$input\) \{ token subject expiresAt \}/);
    expect(sent.variables).toEqual({ input: { subject: 'user-7', ttlSeconds: 600 } });
  });
});
