import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LocalEngineOptions } from '../../src/local-engine/index.js';
import { generateUpload } from './fixtures.js';
import { readSse, uploadOperation } from './harness.js';
import { createTestDatabase, type TestDatabase } from './pg-db.js';
import { type PicWishDouble, startPicWishDouble } from './picwish-double.js';
import { startTestS3, type TestS3 } from './s3-server.js';

/** The repository root, where `src/main.ts` lives. */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** One gateway as a real OS process (`node --import tsx src/main.ts`). */
export interface GatewayProcess {
  readonly name: string;
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything it wrote to stderr so far (its warn/error log lines). */
  stderr(): string;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
  kill(signal: NodeJS.Signals): void;
}

/**
 * The gateway's settings (src/config/config.ts): a spawned gateway gets only the ones a test sets,
 * never whatever the machine running the tests has in its environment (a CI's REDIS_URL, say).
 */
const GATEWAY_SETTING =
  /^(PICWISH_|GATEWAY_|TENANT_|RESULT_|FILES_|LOCAL_ENGINE_|S3_|AWS_|WEBHOOK_|IMAGE_URL_)|^(REDIS_URL|DATABASE_URL|BLOB_STORE_URL|DATA_DIR|PUBLIC_URL|ALLOW_ANONYMOUS|SCENE_TYPES_FILE)$/;

function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !GATEWAY_SETTING.test(key)) env[key] = value;
  }
  return env;
}

/** What a cluster member is wired to: one PostgreSQL, one bucket, its data folder, the local engine. */
export interface ClusterWiring {
  readonly databaseUrl: string;
  /** The bucket's variables (`TestS3.env(prefix)`). */
  readonly storage: Record<string, string>;
  readonly dataDir: string;
  readonly engine: { readonly url: string; readonly apiKey: string };
  /** The PicWish keys, when not just the engine's own: several go in PICWISH_API_KEYS. */
  readonly keys?: readonly string[];
}

/**
 * The environment every cluster spec gives its gateway processes, so that each spec states only
 * what it changes (`overrides`): a strict 2 QPS, a 5 s upstream timeout, one signing secret for
 * every instance (a link signed by one is served by all).
 */
export function clusterEnv(
  wiring: ClusterWiring,
  overrides: Record<string, string> = {},
): Record<string, string> {
  const keys = wiring.keys ?? [wiring.engine.apiKey];
  return {
    DATABASE_URL: wiring.databaseUrl,
    ...wiring.storage,
    DATA_DIR: wiring.dataDir,
    FILES_SIGNING_SECRET: 'cluster-test-signing-secret-0123456789abcdef',
    ...(keys.length === 1 ? { PICWISH_API_KEY: keys[0] as string } : { PICWISH_API_KEYS: keys.join(',') }),
    PICWISH_BASE_URL: wiring.engine.url,
    PICWISH_QPS: '2',
    ...overrides,
  };
}

/** Spawns a gateway and waits for its "GraphiQL at <url>/graphql" line. */
export async function spawnGateway(name: string, env: Record<string, string>): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...inheritedEnv(), PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 60 s:\n${stderr}`)), 60_000);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /GraphiQL at (http:\/\/\S+)\/graphql/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before listening:\n${stderr}`));
    });
  });
  return {
    name,
    url,
    child,
    stderr: () => stderr,
    exited,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** Stops a gateway if it still runs (SIGTERM, then SIGKILL after `graceMs`). */
export async function stopGateway(gateway: GatewayProcess, graceMs = 10_000): Promise<void> {
  if (gateway.child.exitCode !== null || gateway.child.signalCode !== null) return;
  gateway.kill('SIGTERM');
  const timer = setTimeout(() => gateway.kill('SIGKILL'), graceMs);
  await gateway.exited;
  clearTimeout(timer);
}

export const TASK_FIELDS = `id state progress queuePosition upstreamTaskId
  error { code message }
  images { url width height contentType }`;

const GET_TASK = `query($id: ID!) { backgroundTask(id: $id) { ${TASK_FIELDS} } }`;
const WATCH = `subscription($id: ID!) { backgroundTaskUpdated(id: $id) { ${TASK_FIELDS} } }`;

export interface ClusterTask {
  id: string;
  state: string;
  progress: number;
  queuePosition: number | null;
  upstreamTaskId: string | null;
  error: { code: string; message: string } | null;
  images: { url: string; width: number; height: number; contentType: string }[];
}

/** Uploads `png` to `url` and returns the new task. */
export async function createTask(url: string, png: Buffer, prompt: string): Promise<ClusterTask> {
  const answer = await uploadOperation(
    url,
    generateUpload(TASK_FIELDS),
    { file: null, prompt, batch: 1 },
    { variablePath: 'variables.file', bytes: png },
  );
  if (answer.body.errors || !answer.body.data)
    throw new Error(`generate failed: ${JSON.stringify(answer.body)}`);
  return (answer.body.data as { generateBackground: ClusterTask }).generateBackground;
}

export async function getTask(url: string, id: string): Promise<ClusterTask | null> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query: GET_TASK, variables: { id } }),
  });
  const body = (await response.json()) as { data?: { backgroundTask: ClusterTask | null }; errors?: unknown };
  if (body.errors) throw new Error(`backgroundTask failed: ${JSON.stringify(body.errors)}`);
  return body.data?.backgroundTask ?? null;
}

/** Follows a task over SSE on `url` until the stream ends; answers every task snapshot received. */
export async function watchTask(url: string, id: string): Promise<ClusterTask[]> {
  const { events } = await readSse(`${url}/graphql`, {
    body: JSON.stringify({ query: WATCH, variables: { id } }),
  });
  return events
    .filter((e) => e.event === 'next')
    .map((e) => (e.data as { data: { backgroundTaskUpdated: ClusterTask } }).data.backgroundTaskUpdated);
}

export async function readyz(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  try {
    const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  } catch (error) {
    return { status: 0, body: { error: (error as Error).message } };
  }
}

/** A TCP port the OS just handed out as free on 127.0.0.1 (bind to port 0, then release it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port from the OS');
  return address.port;
}

/** What a cluster spec runs against: one database, one bucket, one engine, its gateway processes. */
export interface ClusterRig {
  readonly database: TestDatabase;
  readonly s3: TestS3;
  readonly engine: PicWishDouble;
  readonly dataDir: string;
  /** Every instance `start` spawned, in order, dead ones included. */
  readonly gateways: GatewayProcess[];
  /** Spawns instance `name` with the rig's `clusterEnv` plus `overrides`, and keeps it in `gateways`. */
  start(name: string, overrides?: Record<string, string>): Promise<GatewayProcess>;
  /** Stops every instance, then the engine, the bucket and the database, and removes the data folder. */
  close(): Promise<void>;
}

/**
 * The lifecycle every cluster spec shares, so that each states only what its cluster is made of:
 * a throwaway database, an S3-protocol server, a local engine, a data folder, and instances on them.
 */
export async function startClusterRig(options: {
  /** Names the data folder and the bucket prefix. */
  readonly name: string;
  readonly engine?: LocalEngineOptions;
  /** The PicWish keys, when not just the engine's own (ClusterWiring.keys). */
  readonly keys?: readonly string[];
  /** Settings every instance gets on top of `clusterEnv`'s. @default {} */
  readonly env?: Record<string, string>;
  /** Each instance its own data folder, as on separate machines. @default false */
  readonly ownDataDirs?: boolean;
}): Promise<ClusterRig> {
  const database = await createTestDatabase();
  const s3 = await startTestS3();
  const engine = await startPicWishDouble(options.engine);
  const dataDir = mkdtempSync(join(tmpdir(), `gw-${options.name}-`));
  const gateways: GatewayProcess[] = [];
  return {
    database,
    s3,
    engine,
    dataDir,
    gateways,
    async start(name, overrides = {}) {
      const wiring: ClusterWiring = {
        databaseUrl: database.url,
        storage: s3.env(options.name),
        dataDir: options.ownDataDirs ? join(dataDir, name) : dataDir,
        engine,
        ...(options.keys ? { keys: options.keys } : {}),
      };
      const gateway = await spawnGateway(name, clusterEnv(wiring, { ...options.env, ...overrides }));
      gateways.push(gateway);
      return gateway;
    },
    async close() {
      await Promise.all(gateways.map((gateway) => stopGateway(gateway)));
      await engine.close();
      await s3.stop();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
