import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, WebSocket } from 'undici';

/** A gateway running in its own process, so its RSS is its own. */
export interface GatewayProcess {
  readonly url: string;
  readonly pid: number;
  /** VmRSS in bytes. */
  rss(): number;
  /** VmHWM (peak RSS since start or since `resetPeak`) in bytes. */
  peakRss(): number;
  /** Resets VmHWM (writes 5 to /proc/<pid>/clear_refs). */
  resetPeak(): boolean;
  /**
   * With `inspect`: a full garbage collection through the inspector, then `process.memoryUsage()`
   * as the gateway sees it. Null without the inspector.
   */
  collectGarbage(): Promise<NodeJS.MemoryUsage | null>;
  /** POSTs a GraphQL operation as JSON. */
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<{ data?: T; errors?: unknown[] }>;
  stop(): Promise<void>;
}

function statusField(pid: number, field: string): number {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

let entry: string[] | null = null;

/** Where the benchmark's own build goes: a direct child of the repository, like dist/ (the demo page finds its assets from there). */
export const BENCH_DIST = '.bench-dist';

/**
 * Builds the gateway once as `npm start` does (`tsc -p tsconfig.build.json`), into its own
 * directory so a concurrent `npm start` elsewhere does not swap files under it, and the processes
 * under test run the production JavaScript. A type error elsewhere in the tree still emits
 * JavaScript; only a missing main.js falls back to running the sources through tsx.
 */
export function buildGateway(): string[] {
  if (entry) return entry;
  if (process.env.BENCH_RUNTIME === 'tsx') {
    entry = ['--import', 'tsx', 'src/main.ts'];
    return entry;
  }
  try {
    rmSync(BENCH_DIST, { recursive: true, force: true });
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', BENCH_DIST], { stdio: 'ignore' });
  } catch {
    // Emitted anyway unless the build could not run at all; checked below.
  }
  entry = existsSync(`${BENCH_DIST}/main.js`)
    ? [`${BENCH_DIST}/main.js`]
    : ['--import', 'tsx', 'src/main.ts'];
  return entry;
}

/**
 * Spawns the gateway (`node dist/main.js`, see `buildGateway`) with the given upstream and
 * settings, and resolves once it prints its URL. Generous tenant limits: the benchmark creates
 * many tasks from one (anonymous) tenant.
 */
export async function spawnGateway(options: {
  upstreamUrl: string;
  apiKey: string;
  env?: Record<string, string>;
  nodeArgs?: string[];
  /** Opens the inspector on a loopback port so the bench can force a GC and read heap figures. */
  inspect?: boolean;
}): Promise<GatewayProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gw-bench-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [...(options.inspect ? ['--inspect=127.0.0.1:0'] : []), ...(options.nodeArgs ?? []), ...buildGateway()],
    {
      env: {
        ...process.env,
        NODE_ENV: 'production',
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        PICWISH_API_KEY: options.apiKey,
        PICWISH_BASE_URL: options.upstreamUrl,
        PICWISH_QPS: '50',
        PICWISH_TIMEOUT_MS: '10000',
        PICWISH_TASK_DEADLINE_MS: '3600000',
        TENANT_RATE_LIMIT_PER_MINUTE: '1000000',
        TENANT_MAX_ACTIVE_TASKS: '1000000',
        // Single-connection subscribers reserve their streams in bursts of hundreds.
        SSE_RESERVATIONS_PER_TENANT: '1000000',
        // Every bench subscriber is the one local tenant: its stream cap (#27) would refuse most.
        SSE_STREAMS_PER_TENANT: '1000000',
        LOG_LEVEL: 'warn',
        // The benchmarks' source images are served on loopback, which image URLs reach only so.
        IMAGE_URL_ALLOW_PRIVATE: 'true',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    // BENCH_GATEWAY_LOGS=1 passes the gateway's stderr through, for debugging a phase.
    if (process.env.BENCH_GATEWAY_LOGS === '1') process.stderr.write(chunk);
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`gateway did not start in 60 s:\n${stderr}`)), 60_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /GraphiQL at (http:\/\/\S+)\/graphql/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code}:\n${stderr}`));
    });
  });
  const pid = child.pid as number;
  const inspectorUrl = /Debugger listening on (ws:\/\/\S+)/.exec(stderr)?.[1] ?? null;
  let inspector: Promise<(method: string, params?: unknown) => Promise<unknown>> | null = null;
  const connectInspector = () => {
    inspector ??= new Promise((resolve, reject) => {
      const ws = new WebSocket(inspectorUrl as string);
      let next = 0;
      const pending = new Map<number, (value: unknown) => void>();
      ws.addEventListener('message', (event) => {
        const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
        if (message.id !== undefined) pending.get(message.id)?.(message.result);
      });
      ws.addEventListener('error', () => reject(new Error('inspector connection failed')));
      ws.addEventListener('open', () =>
        resolve((method, params) => {
          next += 1;
          const id = next;
          return new Promise((done) => {
            pending.set(id, done);
            ws.send(JSON.stringify({ id, method, params }));
          });
        }),
      );
      child.once('exit', () => ws.close());
    });
    return inspector;
  };
  return {
    url,
    pid,
    rss: () => statusField(pid, 'VmRSS'),
    peakRss: () => statusField(pid, 'VmHWM'),
    resetPeak: () => {
      try {
        writeFileSync(`/proc/${pid}/clear_refs`, '5');
        return true;
      } catch {
        return false;
      }
    },
    async collectGarbage() {
      if (!inspectorUrl) return null;
      const call = await connectInspector();
      await call('HeapProfiler.collectGarbage');
      const answer = (await call('Runtime.evaluate', {
        expression: 'JSON.stringify(process.memoryUsage())',
        returnByValue: true,
      })) as { result?: { value?: string } };
      return JSON.parse(answer.result?.value ?? 'null') as NodeJS.MemoryUsage | null;
    },
    async gql(query, variables) {
      const response = await request(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.body.json()) as never;
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
