import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { type ScriptServer, spawnScriptServer } from './script-server.js';

/** What one load round measured. */
export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  /** Requests per second. */
  throughput: number;
  /** Per-request latencies in ms. */
  latencies: number[];
  /** CPU time (user + system) the server process spent, in ms, when its pid was given. */
  serverCpuMs: number;
}

/** utime + stime of a process, in ms (from /proc/<pid>/stat, clock ticks of 10 ms). */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * Closed-loop load: `concurrency` workers, each sending the next request as soon as the previous
 * answer was read, over a pool of as many keep-alive connections, for `durationMs`.
 */
export async function runLoad(options: {
  origin: string;
  path: string;
  body: string;
  headers: Record<string, string>;
  concurrency: number;
  durationMs: number;
  /** Checks each answer once per round (the first), so a broken target is not measured. */
  expect?: (status: number, text: string) => void;
  /** The server's pid, to measure its CPU time over the round. */
  pid?: number;
}): Promise<LoadResult> {
  const pool = new Pool(options.origin, { connections: options.concurrency, pipelining: 1 });
  const latencies: number[] = [];
  let errors = 0;
  let checked = false;
  const cpuBefore = options.pid ? processCpuMs(options.pid) : 0;
  const start = performance.now();
  const end = start + options.durationMs;
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        const answer = await pool.request({
          method: 'POST',
          path: options.path,
          headers: options.headers,
          body: options.body,
        });
        const text = await answer.body.text();
        latencies.push(performance.now() - t0);
        if (!checked && options.expect) {
          checked = true;
          options.expect(answer.statusCode, text);
        }
        if (answer.statusCode !== 200) errors += 1;
      } catch (error) {
        if (!checked) throw error;
        errors += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - start) / 1000;
  const serverCpuMs = options.pid ? processCpuMs(options.pid) - cpuBefore : Number.NaN;
  await pool.close();
  return {
    requests: latencies.length,
    errors,
    seconds,
    throughput: latencies.length / seconds,
    latencies,
    serverCpuMs,
  };
}

/**
 * A bare `node:http` server in its own process answering every request with the same bytes and
 * content type: the floor a GraphQL server cannot beat.
 */
export async function spawnBareServer(body: string, contentType: string): Promise<ScriptServer> {
  const source = `
const http = require('node:http');
const body = Buffer.from(process.env.BARE_BODY, 'utf8');
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    res.writeHead(200, { 'content-type': process.env.BARE_TYPE, 'content-length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write('PORT ' + server.address().port + '\\n'));
`;
  return spawnScriptServer('bare server', source, { BARE_BODY: body, BARE_TYPE: contentType });
}
