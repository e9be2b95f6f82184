import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { request } from 'undici';
import { describe, expect } from 'vitest';
import { UrlSigner } from '../../src/results/signer.js';
import { transparentPng } from '../support/fixtures.js';
import { eventually, type TestStack } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import { DELETE, generateTask, getTask, settled, type TaskView, watch } from '../support/task-ops.js';

/** Issue #5: results are fetched once, stored, and served by the gateway long after PicWish forgets them. */

const SECRET = 'results-test-signing-secret-0123456789abcdef';

async function fetchImage(url: string, headers: Record<string, string> = {}, method = 'GET') {
  const response = await request(url, { method: method as 'GET', headers });
  const body = Buffer.from(await response.body.arrayBuffer());
  return { status: response.statusCode, headers: response.headers, body };
}

/** Checks that every image is served by the gateway with the size and type the task claims. */
async function expectServed(stack: TestStack, task: TaskView): Promise<void> {
  expect(task.images.length).toBeGreaterThan(0);
  for (const image of task.images) {
    expect(image.url.startsWith(`${stack.url}/files/`)).toBe(true);
    expect(image.url.startsWith(stack.engine.url)).toBe(false);
    expect(image.url.startsWith('data:')).toBe(false);
    expect(Date.parse(image.expiresAt)).toBeGreaterThan(Date.now());
    const served = await fetchImage(image.url);
    expect(served.status).toBe(200);
    expect(served.headers['content-type']).toBe(image.contentType);
    expect(Number(served.headers['content-length'])).toBe(image.bytes);
    expect(served.body.byteLength).toBe(image.bytes);
    const meta = await sharp(served.body).metadata();
    expect(meta.width).toBe(image.width);
    expect(meta.height).toBe(image.height);
    expect(`image/${meta.format}`).toBe(image.contentType);
  }
}

function blobFiles(stack: TestStack, taskId: string): string[] {
  const dir = join(stack.dataDir, 'blobs', 'results', taskId);
  return existsSync(dir) ? readdirSync(dir) : [];
}

function spoolFiles(stack: TestStack): string[] {
  const dir = join(stack.dataDir, 'spool');
  return existsSync(dir) ? readdirSync(dir) : [];
}

// Every test has a gateway of its own ('test'), started with the settings it is about.
const fresh = { engine: { durationMs: 300 } };
const it = stackTest(fresh, 'test');
// The links live 5 s: long enough for a busy machine to store the results before they die.
const itExpiringLinks = stackTest({ engine: { resultTtlMs: 5_000, durationMs: 500 } }, 'test');
const itBase64 = stackTest({ engine: { returnType: 'base64', durationMs: 500 } }, 'test');
const itSigned = stackTest(
  { ...fresh, env: { FILES_SIGNING_SECRET: SECRET, RESULT_URL_TTL_SECONDS: '10' } },
  'test',
);
const itPublicUrl = stackTest({ ...fresh, env: { PUBLIC_URL: 'https://images.example.com/gw' } }, 'test');
// Upstream links live 10 s, not an hour: long enough for a busy machine to fetch them (the gateway
// retries a 404 until a link's hour is nearly up, so a 1 s life once held a task past the timeout).
const itShortUpstreamLinks = stackTest({ engine: { durationMs: 300, resultTtlMs: 10_000 } }, 'test');
// 0.0002 days is about 17 s: long enough for the task to finish first on a busy machine (a
// shorter one could purge it before it was ever seen SUCCEEDED); the sweep runs every second.
const itSwept = stackTest({ engine: { durationMs: 200 }, env: { RESULT_RETENTION_DAYS: '0.0002' } }, 'test');

describe('stored results', () => {
  itExpiringLinks(
    'serves both images after PicWish’s links expired, having fetched each upstream image exactly once',
    async ({ stack }) => {
      const created = await generateTask(stack, { png: await transparentPng(400, 300), batch: 2 });
      // A subscriber hears SUCCEEDED only with the images already stored and servable.
      const history = await watch(stack, created.id);
      const succeeded = history.at(-1) as TaskView;
      expect(succeeded.state).toBe('SUCCEEDED');
      expect(succeeded.images).toHaveLength(2);
      for (const image of succeeded.images) {
        expect(image.bytes).toBeGreaterThan(0);
        expect(image.width).toBeGreaterThan(0);
        expect(image.height).toBeGreaterThan(0);
        expect(image.contentType).toBe('image/png');
      }
      for (const earlier of history.slice(0, -1)) expect(earlier.images).toEqual([]);
      // Let the engine's result links die, then read everything from the gateway.
      await new Promise((resolve) => setTimeout(resolve, 5_500));
      const later = (await getTask(stack, created.id)) as TaskView;
      await expectServed(stack, later);
      await expectServed(stack, later);
      const fetches = stack.engine.stats().resultFetches;
      expect(Object.keys(fetches)).toHaveLength(2);
      expect(Object.values(fetches)).toEqual([1, 1]);
      // The upstream links are really gone.
      const gone = await fetchImage(`${stack.engine.url}${Object.keys(fetches)[0]}`);
      expect(gone.status).toBe(404);
      // The upload left the spool once PicWish had it.
      expect(spoolFiles(stack)).toEqual([]);
    },
  );

  itBase64('stores base64 results the same way and never hands out data: URLs', async ({ stack }) => {
    const created = await generateTask(stack, { png: await transparentPng(300, 400), batch: 2 });
    const done = await settled(stack, created.id);
    expect(done.state).toBe('SUCCEEDED');
    expect(done.images).toHaveLength(2);
    await expectServed(stack, done);
    expect(stack.engine.stats().resultFetches).toEqual({});
    // Portrait source, portrait results.
    for (const image of done.images) expect(image.height).toBeGreaterThan(image.width);
  });

  itSigned('answers 403 to a tampered or expired signature and 404 to an unknown file', async ({ stack }) => {
    const done = await settled(stack, (await generateTask(stack, { batch: 1 })).id);
    const image = done.images[0] as TaskView['images'][number];
    const url = new URL(image.url);
    const key = decodeURIComponent(url.pathname.slice('/files/'.length));
    // The TTL shows in expiresAt (rounded up to the minute).
    const ttl = Date.parse(image.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(5_000);
    expect(ttl).toBeLessThanOrEqual(75_000);

    const sig = url.searchParams.get('sig') as string;
    const tamperedSig = new URL(url);
    tamperedSig.searchParams.set('sig', `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`);
    expect((await fetchImage(tamperedSig.toString())).status).toBe(403);
    const stretched = new URL(url);
    stretched.searchParams.set('exp', String(Number(url.searchParams.get('exp')) + 3600));
    expect((await fetchImage(stretched.toString())).status).toBe(403);
    const unsigned = new URL(url);
    unsigned.search = '';
    expect((await fetchImage(unsigned.toString())).status).toBe(403);

    const signer = new UrlSigner(SECRET, stack.url, 10);
    const expired = signer.sign(key, Date.now() - 3_600_000);
    expect(expired.expiresAt.getTime()).toBeLessThan(Date.now());
    const expiredAnswer = await fetchImage(expired.url);
    expect(expiredAnswer.status).toBe(403);
    expect(expiredAnswer.body.toString()).toMatch(/expired/i);
    // A genuine signature for a file that does not exist.
    const missing = signer.sign(key.replace(/[0-9a-f]{64}/, '0'.repeat(64)));
    expect((await fetchImage(missing.url)).status).toBe(404);
    // The genuine link still works.
    expect((await fetchImage(image.url)).status).toBe(200);
  });

  itPublicUrl('builds image URLs on PUBLIC_URL when it is set', async ({ stack }) => {
    const done = await settled(stack, (await generateTask(stack, { batch: 1 })).id);
    const image = done.images[0] as TaskView['images'][number];
    expect(image.url.startsWith('https://images.example.com/gw/files/results/')).toBe(true);
    // Behind a proxy that strips the prefix, the same path and query reach the gateway.
    const local = image.url.replace('https://images.example.com/gw', stack.url);
    expect((await fetchImage(local)).status).toBe(200);
  });

  it('serves HEAD, 304 on If-None-Match and 206 for a byte range, with a strong ETag and immutable caching', async ({
    stack,
  }) => {
    const done = await settled(stack, (await generateTask(stack, { batch: 1 })).id);
    const image = done.images[0] as TaskView['images'][number];

    const full = await fetchImage(image.url);
    const etag = full.headers.etag as string;
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    expect(full.headers['cache-control']).toMatch(/^private, max-age=\d+, immutable$/);
    expect(Number(/max-age=(\d+)/.exec(full.headers['cache-control'] as string)?.[1])).toBeGreaterThan(0);
    expect(full.headers['accept-ranges']).toBe('bytes');

    const head = await fetchImage(image.url, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBe(image.bytes);
    expect(head.headers.etag).toBe(etag);
    expect(head.body.byteLength).toBe(0);

    const notModified = await fetchImage(image.url, { 'if-none-match': etag });
    expect(notModified.status).toBe(304);
    expect(notModified.body.byteLength).toBe(0);
    expect((await fetchImage(image.url, { 'if-none-match': '"something-else"' })).status).toBe(200);

    const partial = await fetchImage(image.url, { range: 'bytes=0-99' });
    expect(partial.status).toBe(206);
    expect(partial.headers['content-range']).toBe(`bytes 0-99/${image.bytes}`);
    expect(partial.body).toEqual(full.body.subarray(0, 100));
    const tail = await fetchImage(image.url, { range: 'bytes=-10' });
    expect(tail.status).toBe(206);
    expect(tail.body).toEqual(full.body.subarray(full.body.byteLength - 10));
    const beyond = await fetchImage(image.url, { range: `bytes=${image.bytes + 10}-` });
    expect(beyond.status).toBe(416);
  });

  itShortUpstreamLinks(
    'keeps results and their links working across a restart (generated signing secret kept in DATA_DIR)',
    async ({ stack }) => {
      const done = await settled(stack, (await generateTask(stack, { batch: 2 })).id);
      await stack.restart();
      // Same data directory, new listening port: the old link names the old port, so re-address it.
      for (const image of done.images) {
        const moved = new URL(image.url);
        const now = new URL(stack.url);
        moved.host = now.host;
        expect((await fetchImage(moved.toString())).status).toBe(200);
      }
      const again = (await getTask(stack, done.id)) as TaskView;
      expect(again.state).toBe('SUCCEEDED');
      await expectServed(stack, again);
      expect(Object.values(stack.engine.stats().resultFetches)).toEqual([1, 1]);
    },
  );

  it('deleteBackgroundTask removes the task and its files at once; its links then answer 404', async ({
    stack,
  }) => {
    const done = await settled(stack, (await generateTask(stack, { batch: 2 })).id);
    expect(blobFiles(stack, done.id).length).toBeGreaterThan(0);
    const deleted = await stack.gql<{ deleteBackgroundTask: boolean }>(DELETE, { id: done.id });
    expect(deleted.body.data?.deleteBackgroundTask).toBe(true);
    expect(await getTask(stack, done.id)).toBeNull();
    expect(blobFiles(stack, done.id)).toEqual([]);
    for (const image of done.images) expect((await fetchImage(image.url)).status).toBe(404);
    const again = await stack.gql<{ deleteBackgroundTask: boolean }>(DELETE, { id: done.id });
    expect(again.body.data?.deleteBackgroundTask).toBe(false);
  });

  itSwept(
    'the retention sweep purges tasks and files older than RESULT_RETENTION_DAYS',
    async ({ stack }) => {
      const done = await settled(stack, (await generateTask(stack, { batch: 1 })).id);
      expect(done.state).toBe('SUCCEEDED');
      const image = done.images[0] as TaskView['images'][number];
      // The record goes first, then the files: wait for the purge to be through with both.
      await eventually(
        async () =>
          (await getTask(stack, done.id)) === null && blobFiles(stack, done.id).length === 0
            ? true
            : undefined,
        60_000,
        250,
      );
      expect((await fetchImage(image.url)).status).toBe(404);
    },
  );

  it('removes orphaned spool files on restart', async ({ stack }) => {
    const orphan = join(stack.dataDir, 'spool', 'left-over-from-a-crash.png');
    writeFileSync(orphan, 'not really a png');
    await stack.restart();
    expect(existsSync(orphan)).toBe(false);
  });
});
