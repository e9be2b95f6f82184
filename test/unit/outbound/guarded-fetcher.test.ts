import type { buildConnector } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GuardedFetcher, type GuardedFetcherOptions, readAll } from '../../../src/outbound/index.js';
import { transparentPng } from '../../support/fixtures.js';
import {
  type CountingServer,
  loopbackOnlyConnector,
  loopbackSpellings,
  startCountingServer,
  stopCountingServer,
  streamLargeBody,
  stubResolver,
} from '../../support/loopback-transport.js';

/**
 * The guarded fetcher against image servers of its own on loopback. Names other than localhost
 * come from a stubbed resolver, and every socket goes through a connector that can only reach
 * loopback (anything else lands on a counting sink), so not even a broken guard leaves the machine.
 */

let png: Buffer;
let images: CountingServer;
let sink: CountingServer;
let base: string;
const fetchers: GuardedFetcher[] = [];

function fetcher(options: Partial<GuardedFetcherOptions> = {}): GuardedFetcher {
  const made = new GuardedFetcher({
    allowPrivate: true,
    timeoutMs: 2_000,
    maxBytes: 20 * 1024 * 1024,
    resolve: stubResolver(),
    connector: loopbackOnlyConnector({ host: '127.0.0.1', port: sink.port }),
    ...options,
  });
  fetchers.push(made);
  return made;
}

beforeAll(async () => {
  png = await transparentPng(300, 300);
  images = await startCountingServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/product.png') return void res.writeHead(200, { 'content-type': 'text/plain' }).end(png);
    if (path === '/page.png')
      return void res.writeHead(200, { 'content-type': 'image/png' }).end('<!doctype html><p>hi</p>');
    if (path === '/empty.png') return void res.writeHead(200, { 'content-type': 'image/png' }).end();
    if (path === '/hang.png') return;
    if (path === '/declared-huge.png') {
      res.writeHead(200, { 'content-length': String(60 * 1024 * 1024) });
      return void res.write(png.subarray(0, 16));
    }
    if (path === '/huge.png') return streamLargeBody(res, png, 60);
    if (path === '/loop') return void res.writeHead(302, { location: '/loop' }).end();
    const hops = /^\/hops\/(\d+)$/.exec(path);
    if (hops) {
      const left = Number(hops[1]);
      return void res.writeHead(302, { location: left === 0 ? '/product.png' : `/hops/${left - 1}` }).end();
    }
    const to = new URL(req.url ?? '/', 'http://x').searchParams.get('to');
    if (path === '/redirect' && to) return void res.writeHead(307, { location: to }).end();
    res.writeHead(404).end('not here');
  });
  sink = await startCountingServer(
    (_req, res) => void res.writeHead(200, { 'content-type': 'image/png' }).end(png),
  );
  base = images.url;
});

afterAll(async () => {
  await Promise.all(fetchers.map((made) => made.close()));
  await stopCountingServer(images);
  await stopCountingServer(sink);
});

/** A URL on the image server that redirects to `target`. */
function redirectTo(target: string): string {
  return `${base}/redirect?to=${encodeURIComponent(target)}`;
}

async function outcome(made: GuardedFetcher, url: string): Promise<string> {
  const opened = await made.open(url, { expectImage: true });
  if (!opened.ok) return opened.error.reason;
  const bytes = await readAll(opened.value);
  return bytes.ok ? `${opened.value.type} ${bytes.value.length}` : bytes.error.reason;
}

describe('the guarded fetcher', () => {
  it('fetches a PNG and takes its type from the bytes, not from the Content-Type', async () => {
    expect(await outcome(fetcher(), `${base}/product.png`)).toBe(`png ${png.length}`);
  });

  it('refuses an HTML page labelled image/png, and an empty body, as NOT_AN_IMAGE', async () => {
    expect(await outcome(fetcher(), `${base}/page.png`)).toBe('NOT_AN_IMAGE');
    expect(await outcome(fetcher(), `${base}/empty.png`)).toBe('NOT_AN_IMAGE');
  });

  it('answers URL_UNREACHABLE with the status for a 404, and for a closed port', async () => {
    const opened = await fetcher().open(`${base}/missing.png`);
    expect(opened.ok ? null : opened.error).toMatchObject({ reason: 'URL_UNREACHABLE', status: 404 });
    const closed = await startCountingServer(() => {});
    const port = closed.port;
    await new Promise((resolve) => closed.server.close(resolve));
    expect(await outcome(fetcher(), `http://127.0.0.1:${port}/x.png`)).toBe('URL_UNREACHABLE');
  });

  it('gives up on a server that never answers with URL_TIMEOUT', async () => {
    expect(await outcome(fetcher({ timeoutMs: 300 }), `${base}/hang.png`)).toBe('URL_TIMEOUT');
  });

  it('refuses a 60 MB body as URL_TOO_LARGE, declared or streamed', async () => {
    expect(await outcome(fetcher(), `${base}/declared-huge.png`)).toBe('URL_TOO_LARGE');
    expect(await outcome(fetcher(), `${base}/huge.png`)).toBe('URL_TOO_LARGE');
  });

  it('follows up to 3 redirects and refuses a redirect loop as URL_TOO_MANY_REDIRECTS', async () => {
    expect(await outcome(fetcher(), `${base}/hops/2`)).toBe(`png ${png.length}`);
    expect(await outcome(fetcher(), `${base}/hops/3`)).toBe('URL_TOO_MANY_REDIRECTS');
    expect(await outcome(fetcher(), `${base}/loop`)).toBe('URL_TOO_MANY_REDIRECTS');
  });

  it('refuses a redirect to another scheme', async () => {
    expect(await outcome(fetcher(), redirectTo('file:///etc/passwd'))).toBe('URL_NOT_ALLOWED');
  });
});

describe('redirects are checked again, with a stubbed resolver', () => {
  const names = {
    'internal.test': ['10.0.0.5'],
    'metadata.test': ['169.254.169.254'],
    'cgnat.test': ['100.64.0.7'],
    'ula.test': ['fd00::5'],
    'mixed.test': ['93.184.216.34', '192.168.0.10'],
    'cdn.test': ['93.184.216.34'],
  };

  it.each([
    'http://internal.test/p.png',
    'http://metadata.test/latest/meta-data/',
    'http://cgnat.test/p.png',
    'http://ula.test/p.png',
    'http://mixed.test/p.png',
    'http://169.254.169.254/latest/meta-data/',
    'http://[fd00:ec2::254]/latest/meta-data/',
    'http://100.100.100.200/',
  ])('refuses a redirect to %s before connecting', async (target) => {
    const before = sink.connections;
    const made = fetcher({ allowPrivate: false, resolve: stubResolver(names), trustedOrigins: [base] });
    expect(await outcome(made, redirectTo(target))).toBe('URL_NOT_ALLOWED');
    expect(sink.connections).toBe(before);
  });

  it.each([
    'http://metadata.test/latest/meta-data/',
    'http://169.254.169.254/latest/meta-data/',
    'http://[fd00:ec2::254]/latest/meta-data/',
  ])('refuses a redirect to %s even with allowPrivate', async (target) => {
    const before = sink.connections;
    expect(await outcome(fetcher({ resolve: stubResolver(names) }), redirectTo(target))).toBe(
      'URL_NOT_ALLOWED',
    );
    expect(sink.connections).toBe(before);
  });

  it('connects a public name to the address that was checked, resolving it once', async () => {
    let lookups = 0;
    const dialled: string[] = [];
    const resolve = stubResolver(names);
    const dial = loopbackOnlyConnector({ host: '127.0.0.1', port: sink.port });
    const recording: buildConnector.connector = (options, callback) => {
      dialled.push(options.hostname);
      dial(options, callback);
    };
    const made = fetcher({
      allowPrivate: false,
      trustedOrigins: [base],
      resolve: async (hostname) => {
        lookups++;
        return resolve(hostname);
      },
      connector: recording,
    });
    expect(await outcome(made, redirectTo('http://cdn.test/p.png'))).toBe(`png ${png.length}`);
    expect(lookups).toBe(1);
    expect(dialled).toEqual(['127.0.0.1', '93.184.216.34']);
  });

  it('checks a redirect away from a trusted origin like any other URL', async () => {
    const other = await startCountingServer((_req, res) => void res.end(png));
    const made = fetcher({ allowPrivate: false, trustedOrigins: [base] });
    expect(await outcome(made, redirectTo(`http://127.0.0.1:${other.port}/p.png`))).toBe('URL_NOT_ALLOWED');
    expect(other.connections).toBe(0);
    await stopCountingServer(other);
  });
});

describe('with the default settings (allowPrivate off)', () => {
  let sink6: CountingServer | null = null;

  beforeAll(async () => {
    sink6 = await startCountingServer(() => {}, '::1').catch(() => null);
  });

  afterAll(async () => {
    await stopCountingServer(sink6);
  });

  it('refuses every spelling of this machine before any connection', async () => {
    const made = fetcher({ allowPrivate: false, resolve: undefined, connector: undefined });
    const before = images.connections;
    for (const url of loopbackSpellings(images.port, sink6?.port))
      expect([url, await outcome(made, url)]).toEqual([url, 'URL_NOT_ALLOWED']);
    expect(images.connections).toBe(before);
    expect(sink6?.connections ?? 0).toBe(0);
  });
});
