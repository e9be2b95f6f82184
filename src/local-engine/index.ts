import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { classifyAddress, isLocalhostName, literalAddress } from '../outbound/index.js';
import { type JobInput, runJob } from './pipeline.js';
import { SlidingWindowLimiter } from './rate-limit.js';
import { Semaphore } from './semaphore.js';
import { createRequestHandler } from './server.js';
import { TaskStore } from './tasks.js';
import type { LocalEngine, LocalEngineOptions } from './types.js';

/**
 * The built-in local engine: a procedural, non-AI stand-in that speaks PicWish's Generate
 * Background contract on loopback. It is the default upstream when no PicWish key is configured
 * (so the gateway works offline) and the real HTTP upstream of the test suite (which puts its
 * recording, fault-switching proxy in front: test/support/picwish-double.ts).
 */

export type { LocalEngine, LocalEngineOptions, SceneTypeInfo } from './types.js';

const DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  durationMs: 4000,
  returnType: 'url',
  resultTtlMs: 3_600_000,
} as const;

function checkOptions(options: LocalEngineOptions): void {
  const nonNegative = (name: string, value: number | undefined) => {
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
      throw new RangeError(`local engine: ${name} must be a non-negative number, got ${value}`);
    }
  };
  nonNegative('port', options.port);
  nonNegative('durationMs', options.durationMs);
  nonNegative('resultTtlMs', options.resultTtlMs);
  nonNegative('qps', options.qps ?? undefined);
  if (options.maxConcurrentRenders !== undefined && !(options.maxConcurrentRenders >= 1)) {
    throw new RangeError('local engine: maxConcurrentRenders must be at least 1');
  }
  if (options.apiKey !== undefined && options.apiKey === '') {
    throw new RangeError('local engine: apiKey must not be empty');
  }
  if (options.extraApiKeys?.some((key) => key === '')) {
    throw new RangeError('local engine: extraApiKeys must not hold an empty key');
  }
  const host = options.host ?? DEFAULTS.host;
  if (!isLoopbackHost(host) && options.allowNonLoopbackHost !== true) {
    throw new RangeError(
      `local engine: host ${host} is not a loopback address; it is a local test double, so it binds beyond loopback only with allowNonLoopbackHost: true (ENGINE_ALLOW_NON_LOOPBACK=true)`,
    );
  }
}

/** 127/8, ::1 (in any spelling) and localhost; a name that needs DNS is not taken on trust. */
function isLoopbackHost(host: string): boolean {
  const literal = literalAddress(host);
  return literal === null ? isLocalhostName(host) : classifyAddress(literal) === 'loopback';
}

/** Wildcard binds are reachable on loopback; IPv6 literals need brackets in a URL. */
function urlHost(address: string): string {
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '[::1]';
  return address.includes(':') ? `[${address}]` : address;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Starts an engine and resolves once it is listening. */
export async function startLocalEngine(options: LocalEngineOptions = {}): Promise<LocalEngine> {
  checkOptions(options);
  const apiKey = options.apiKey ?? randomBytes(24).toString('base64url');
  const apiKeys = [apiKey, ...(options.extraApiKeys ?? [])];
  const clock = options.clock ?? Date.now;
  const tasks = new TaskStore({
    durationMs: options.durationMs ?? DEFAULTS.durationMs,
    returnType: options.returnType ?? DEFAULTS.returnType,
    resultTtlMs: options.resultTtlMs ?? DEFAULTS.resultTtlMs,
  });
  const shutdown = new AbortController();
  const jobContext = {
    sceneTypes: options.sceneTypes ?? [],
    signal: shutdown.signal,
    renders: new Semaphore(options.maxConcurrentRenders ?? Number.POSITIVE_INFINITY),
  };
  const running = new Set<Promise<void>>();
  let url = '';

  const accept = (input: JobInput, owner: string): string => {
    const now = clock();
    tasks.sweep(now);
    const taskId = tasks.create(now, owner);
    const job = runJob(input, jobContext).then((outcome) => tasks.settle(taskId, outcome, clock()));
    running.add(job);
    void job.finally(() => running.delete(job));
    return taskId;
  };

  const server = createServer(
    createRequestHandler({
      apiKeys: new Set(apiKeys),
      baseUrl: () => url,
      tasks,
      limiter: new SlidingWindowLimiter(options.qps ?? null),
      clock,
      accept,
    }),
  );
  await listen(server, options.port ?? DEFAULTS.port, options.host ?? DEFAULTS.host);
  const address = server.address() as AddressInfo;
  url = `http://${urlHost(address.address)}:${address.port}`;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      shutdown.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await Promise.allSettled([...running]);
    })();
    return closing;
  };

  return {
    url,
    apiKey,
    apiKeys,
    close,
  };
}
