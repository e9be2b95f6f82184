import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { request } from 'undici';
import { loadConfig } from '../../src/config/config.js';
import { DEFAULT_SCENE_TYPES } from '../../src/config/scene-types.js';
import { type Gateway, startGateway } from '../../src/gateway/app.js';
import type { LocalEngineOptions } from '../../src/local-engine/index.js';
import type { Resolver } from '../../src/outbound/index.js';
import { loopbackOnlyConnector, stubResolver } from './loopback-transport.js';
import { type PicWishDouble, startPicWishDouble } from './picwish-double.js';
import { SseSplitter, sseEvents } from './sse.js';

/** A gateway and its local engine, both real HTTP servers on ephemeral loopback ports. */
export interface TestStack {
  readonly gateway: Gateway;
  readonly engine: PicWishDouble;
  readonly url: string;
  readonly dataDir: string;
  /** POSTs a GraphQL operation as JSON and returns the parsed answer with its HTTP status. */
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: { data?: T; errors?: GraphQLErrorShape[] } }>;
  /** Restarts the gateway on the same data directory (and engine); the old instance is closed. */
  restart(): Promise<Gateway>;
  close(): Promise<void>;
}

/** The parts of a GraphQL error the tests look at. */
export interface GraphQLErrorShape {
  message: string;
  extensions?: Record<string, unknown> & { code?: string; reason?: string; field?: string };
}

/** Starts an engine and a gateway pointed at it; `env` overrides gateway settings. */
export async function startStack(
  options: {
    engine?: LocalEngineOptions;
    env?: Record<string, string>;
    dataDir?: string;
    /** The gateway's logger (say, one writing to a capture stream); silent by default. */
    logger?: Logger;
    /** How the gateway's outbound fetches resolve names; default: only `localhost` exists. */
    resolve?: Resolver;
  } = {},
): Promise<TestStack> {
  const engine = await startPicWishDouble({ durationMs: 1_500, ...options.engine });
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'gw-test-'));
  const boot = async () => {
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      PICWISH_API_KEY: engine.apiKey,
      PICWISH_BASE_URL: engine.url,
      PICWISH_QPS: '50',
      LOG_LEVEL: 'silent',
      ...options.env,
    });
    if (!config.ok) throw new Error(config.error.message);
    // The gateway's outbound fetches cannot leave loopback in any test (support/loopback-transport.ts).
    return startGateway(config.value, options.logger ?? pino({ level: 'silent' }), DEFAULT_SCENE_TYPES, {
      resolve: options.resolve ?? stubResolver(),
      connector: loopbackOnlyConnector(),
    });
  };
  let gateway = await boot();
  const stack: TestStack = {
    get gateway() {
      return gateway;
    },
    engine,
    get url() {
      return gateway.url;
    },
    dataDir,
    async gql(query, variables, headers) {
      const response = await request(`${gateway.url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json',
          ...headers,
        },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.statusCode, body: (await response.body.json()) as never };
    },
    async restart() {
      await gateway.close();
      gateway = await boot();
      return gateway;
    },
    async close() {
      await gateway.close();
      await engine.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return stack;
}

/** Sends a GraphQL multipart request with one file at `variables.<variable>`. */
export async function uploadOperation(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  file: { variablePath: string; bytes: Buffer; name?: string },
  headers: Record<string, string> = { 'apollo-require-preflight': 'true' },
): Promise<{ status: number; body: { data?: Record<string, unknown>; errors?: GraphQLErrorShape[] } }> {
  const form = new FormData();
  form.set('operations', JSON.stringify({ query, variables }));
  form.set('map', JSON.stringify({ 0: [file.variablePath] }));
  form.set('0', new Blob([new Uint8Array(file.bytes)], { type: 'image/png' }), file.name ?? 'foreground.png');
  const response = await fetch(`${url}/graphql`, { method: 'POST', body: form, headers });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) };
}

/** Polls `check` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  everyMs = 100,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * Reads an SSE response body as it arrives, handing each event with its data to `onEvent`, until
 * the stream ends.
 */
export async function eachSseEvent(
  response: Response,
  onEvent: (event: string, data: string | undefined) => void,
): Promise<void> {
  for await (const { event, data } of sseEvents(response)) if (event) onEvent(event, data || undefined);
}

/** Reads an SSE response body into its `next` payloads until the stream ends. */
export async function readSse(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; events: { event: string; data: unknown }[] }> {
  const response = await fetch(url, {
    method: init.method ?? 'POST',
    headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...init.headers },
    body: init.body,
  });
  const events: { event: string; data: unknown }[] = [];
  for (const { event, data } of new SseSplitter().push(await response.text())) {
    if (event) events.push({ event, data: data ? JSON.parse(data) : null });
  }
  return { status: response.status, events };
}
