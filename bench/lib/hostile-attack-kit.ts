/**
 * The parts the hostile bench's attacks (bench/lib/hostile-attacks.ts, #27) are built from: what an
 * attack is and gets, the loopback image server URL inputs point at, a bounded pool, tallies of
 * answers, and a client that drips a request body a byte at a time.
 */
import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { PicWishDouble } from '../../test/support/picwish-double.js';
import { bearer, TENANTS } from '../../test/support/tenancy.js';
import type { GatewayProcess } from './gateway-process.js';

export interface AttackContext {
  readonly gateway: GatewayProcess;
  readonly engine: PicWishDouble;
  /** The loopback server image URLs point at. */
  readonly images: ImageServer;
  /** Smaller attacks, for development. */
  readonly quick: boolean;
}

export interface Attack {
  readonly name: string;
  /** Settings this attack's gateway runs with beyond the bench's own. */
  env?(quick: boolean): Record<string, string>;
  /** Alpha's preparation, not measured; resolves with the attack, which resolves with its outcome. */
  prepare(ctx: AttackContext): Promise<() => Promise<string>>;
}

/** A loopback server answering every GET with the same PNG, counting the fetches. */
export interface ImageServer {
  readonly url: string;
  fetches(): number;
  close(): Promise<void>;
}

export async function startImageServer(png: Buffer): Promise<ImageServer> {
  let fetches = 0;
  const server = createServer((_req, res) => {
    fetches += 1;
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length }).end(png);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    fetches: () => fetches,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export const size = (ctx: AttackContext, quick: number, full: number): number => (ctx.quick ? quick : full);
export const ALPHA = bearer(TENANTS.alpha);

/** Runs `work(i)` for i < n, at most `concurrency` at once; answers in order. */
export async function pool<T>(n: number, concurrency: number, work: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next;
      next += 1;
      results[i] = await work(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
  return results;
}

/** "A × 3, B × 1", most frequent first. */
export function tally(values: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([value, count]) => `${value} × ${count}`)
    .join(', ');
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** Opens a POST announcing a 100 KB body and sends a byte every `everyMs` until the gateway ends it. */
export function drip(
  port: number,
  everyMs: number,
  deadlineMs: number,
): Promise<{ answer: string; closedMs: number | null }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    let received = '';
    let timedOut = false;
    socket.on('data', (chunk) => {
      received += String(chunk);
    });
    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TENANTS.alpha}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`,
    );
    const dripping = setInterval(() => socket.writable && socket.write(' '), everyMs);
    const deadline = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, deadlineMs);
    socket.once('close', () => {
      clearInterval(dripping);
      clearTimeout(deadline);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(received)?.[1];
      const code = /"code":"([A-Z_]+)"/.exec(received)?.[1];
      const answer = status
        ? `${status}${code ? ` ${code}` : ''}`
        : timedOut
          ? 'still open'
          : 'closed unanswered';
      resolve({ answer, closedMs: timedOut ? null : performance.now() - started });
    });
  });
}
