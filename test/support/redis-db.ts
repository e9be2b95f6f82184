import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

/**
 * A Redis database for one test file. By default each file starts its own throwaway redis-server
 * on a port the OS picks, so files running in parallel (or another run of the suite on the same
 * machine) never flush or publish into each other's data, and the suite does not depend on a Redis
 * already running. With TEST_REDIS_URL it uses that server instead, in database `db`: each file
 * that flushes keeps its own number (store-redis 11, cluster 12, redis-coordination 13).
 */
export interface TestRedis {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startTestRedis(db: number): Promise<TestRedis> {
  if (process.env.TEST_REDIS_URL) {
    const url = new URL(process.env.TEST_REDIS_URL);
    url.pathname = `/${db}`;
    return { url: url.toString(), stop: async () => undefined };
  }
  const { child, port } = await startRedisServerOnFreePort();
  return { url: `redis://127.0.0.1:${port}/${db}`, stop: () => stopRedisServer(child) };
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

/**
 * Starts a throwaway redis-server on a port the OS picked (never a fixed or guessed one). The
 * port is free when chosen but could be taken before redis-server binds it: then it tries another.
 */
export async function startRedisServerOnFreePort(): Promise<{ child: ChildProcess; port: number }> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const port = await freePort();
    try {
      return { child: await startRedisServer(port), port };
    } catch (error) {
      lastError = error;
      if (!/Address already in use|bind/i.test(String((error as Error).message))) throw error;
    }
  }
  throw lastError;
}

/** Starts a throwaway redis-server on `port` (no persistence); resolves once it answers. */
export async function startRedisServer(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  const deadline = Date.now() + 30_000;
  while (!/Ready to accept connections/.test(out)) {
    if (child.exitCode !== null) throw new Error(`redis-server on ${port} exited:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server on ${port} did not start:\n${out}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return child;
}

export async function stopRedisServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await once(child, 'exit');
}
