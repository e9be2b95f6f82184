import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../../src/results/fs-blob-store.js';
import { ResultFetcher, type ResultFetcherOptions } from '../../../src/results/result-fetcher.js';
import { transparentPng } from '../../support/fixtures.js';
import {
  type CountingServer,
  loopbackOnlyConnector,
  startCountingServer,
  stopCountingServer,
  stubResolver,
} from '../../support/loopback-transport.js';

/**
 * Issue #18, item 7: result links from the upstream go through the guarded fetcher. Links on the
 * configured upstream's own origin (here a loopback server standing in for the local engine) are
 * fetched; a link anywhere else on loopback or a private network only with allowPrivate
 * (IMAGE_URL_ALLOW_PRIVATE=true); a redirect off the upstream's origin is checked again.
 */

let png: Buffer;
let upstream: CountingServer;
let elsewhere: CountingServer;
let dir: string;
const fetchers: ResultFetcher[] = [];

function fetcher(options: Partial<ResultFetcherOptions>): ResultFetcher {
  const made = new ResultFetcher(new FsBlobStore(dir), {
    timeoutMs: 2_000,
    maxBytes: 25 * 1024 * 1024,
    allowPrivate: false,
    trustedOrigins: [upstream.url],
    resolve: stubResolver({ 'cdn.internal.test': ['10.1.2.3'] }),
    connector: loopbackOnlyConnector(),
    ...options,
  });
  fetchers.push(made);
  return made;
}

beforeAll(async () => {
  png = await transparentPng(300, 300);
  dir = mkdtempSync(join(tmpdir(), 'gw-result-links-'));
  elsewhere = await startCountingServer(
    (_req, res) => void res.writeHead(200, { 'content-type': 'image/png' }).end(png),
  );
  upstream = await startCountingServer((req, res) => {
    const to = new URL(req.url ?? '/', 'http://x').searchParams.get('to');
    if (to) return void res.writeHead(302, { location: to }).end();
    res.writeHead(200, { 'content-type': 'image/png' }).end(png);
  });
});

afterAll(async () => {
  await Promise.all(fetchers.map((made) => made.close()));
  await stopCountingServer(upstream);
  await stopCountingServer(elsewhere);
  rmSync(dir, { recursive: true, force: true });
});

describe('result links through the guarded fetcher', () => {
  it("stores a result from the configured upstream's own origin, even on loopback", async () => {
    const stored = await fetcher({}).fetch('t1', { kind: 'url', url: `${upstream.url}/results/a.png` });
    expect(stored.ok ? stored.value.contentType : stored.error).toBe('image/png');
  });

  it('refuses a link on another loopback origin without allowPrivate, connecting to nothing', async () => {
    const before = elsewhere.connections;
    const stored = await fetcher({}).fetch('t2', { kind: 'url', url: `${elsewhere.url}/a.png` });
    expect(stored.ok ? 'stored' : stored.error.kind).toBe('invalid');
    expect(elsewhere.connections).toBe(before);
  });

  it('refuses a redirect from the upstream to another loopback origin, and a private name', async () => {
    const before = elsewhere.connections;
    const made = fetcher({});
    for (const target of [`${elsewhere.url}/a.png`, 'http://cdn.internal.test/a.png']) {
      const url = `${upstream.url}/results/b.png?to=${encodeURIComponent(target)}`;
      const stored = await made.fetch('t3', { kind: 'url', url });
      expect([target, stored.ok ? 'stored' : stored.error.kind]).toEqual([target, 'invalid']);
    }
    expect(elsewhere.connections).toBe(before);
  });

  it('fetches a link on another loopback origin with allowPrivate (IMAGE_URL_ALLOW_PRIVATE=true)', async () => {
    const stored = await fetcher({ allowPrivate: true }).fetch('t4', {
      kind: 'url',
      url: `${elsewhere.url}/a.png`,
    });
    expect(stored.ok ? stored.value.contentType : stored.error).toBe('image/png');
  });

  it('reports a 404 as gone, so it is not retried as a passing fault', async () => {
    const missing = await startCountingServer((_req, res) => void res.writeHead(404).end());
    const stored = await fetcher({ trustedOrigins: [missing.url] }).fetch('t5', {
      kind: 'url',
      url: `${missing.url}/gone.png`,
    });
    expect(stored.ok ? 'stored' : stored.error.kind).toBe('gone');
    await stopCountingServer(missing);
  });
});
