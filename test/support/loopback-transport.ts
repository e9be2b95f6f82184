import { isIP } from 'node:net';
import { buildConnector } from 'undici';
import type { Resolver } from '../../src/outbound/index.js';

/**
 * The network as tests see it: names resolve only from a table (no DNS query leaves the
 * machine) and sockets open only to loopback, whatever the guard under test decides. A broken
 * guard then shows up as a failed assertion, never as a connection to another network.
 */

/** Resolves from `names` (and `localhost`); every other name does not exist. */
export function stubResolver(names: Readonly<Record<string, readonly string[]>> = {}): Resolver {
  return async (hostname) => {
    const key = hostname.toLowerCase();
    const addresses = names[key] ?? (key === 'localhost' ? ['127.0.0.1'] : undefined);
    if (!addresses) throw Object.assign(new Error(`stub resolver: no ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: isIP(address) === 6 ? 6 : 4 }));
  };
}

/** Decided without the code under test: 127/8 spelled dotted, or ::1. */
function plainlyLoopback(address: string): boolean {
  return isIP(address) === 4 ? address.startsWith('127.') : address === '::1';
}

/**
 * A connector that dials loopback addresses as asked and sends every other address to `sink`
 * (a loopback server that counts what reaches it), or fails the connection when there is none.
 */
export function loopbackOnlyConnector(sink?: { host: string; port: number }): buildConnector.connector {
  const dial = buildConnector({ timeout: 5_000 });
  return (options, callback) => {
    if (plainlyLoopback(options.hostname)) return dial(options, callback);
    if (sink) return dial({ ...options, hostname: sink.host, port: String(sink.port) }, callback);
    callback(new Error(`test transport: ${options.hostname} is outside loopback`), null);
  };
}
