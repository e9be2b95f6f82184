import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, isIP } from 'node:net';
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

/**
 * Every spelling of this machine an SSRF guard must refuse, as URLs of `path` on `port` (IPv4
 * loopback) and, when there is an IPv6 loopback server, `v6Port`: dotted, hex, decimal, IPv4-mapped
 * IPv6, `localhost` and a trailing-dot FQDN.
 */
export function loopbackSpellings(port: number, v6Port?: number, path = '/product.png'): string[] {
  const urls = [
    `http://127.0.0.1:${port}${path}`,
    `http://0x7f000001:${port}${path}`,
    `http://2130706433:${port}${path}`,
    `http://[::ffff:127.0.0.1]:${port}${path}`,
    `http://localhost:${port}${path}`,
    `http://127.0.0.1.:${port}${path}`,
  ];
  if (v6Port !== undefined) urls.push(`http://[::1]:${v6Port}${path}`);
  return urls;
}

/** A loopback HTTP server that counts the connections made to it, to prove none was made. */
export interface CountingServer {
  readonly server: Server;
  readonly port: number;
  /** The server's base URL, e.g. http://127.0.0.1:PORT. */
  readonly url: string;
  readonly connections: number;
}

/** Starts a {@link CountingServer} on `host` (127.0.0.1 or ::1) and an OS-picked port. */
export async function startCountingServer(
  handler: RequestListener,
  host = '127.0.0.1',
): Promise<CountingServer> {
  const server = createServer(handler);
  let connections = 0;
  server.on('connection', () => {
    connections++;
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    get connections() {
      return connections;
    },
  };
}

/** Stops a counting server, cutting any connection still open (a hanging response, say). */
export async function stopCountingServer(counting: CountingServer | null): Promise<void> {
  if (!counting) return;
  counting.server.closeAllConnections();
  await new Promise((resolve) => counting.server.close(resolve));
}

/**
 * Answers with `head` and then `megabytes` MB of zeros, streamed (no Content-Length) and at the
 * pace the client reads, so a size cap has to stop it while it arrives.
 */
export function streamLargeBody(res: ServerResponse, head: Buffer, megabytes: number): void {
  res.writeHead(200, { 'content-type': 'image/png' });
  res.write(head);
  const filler = Buffer.alloc(1024 * 1024);
  let sent = 0;
  const more = (): void => {
    while (sent < megabytes && !res.destroyed) {
      sent++;
      if (!res.write(filler)) return void res.once('drain', more);
    }
    res.end();
  };
  more();
}
