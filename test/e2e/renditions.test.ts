import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect } from 'vitest';
import type { BlobStore } from '../../src/results/blob-store.js';
import { FsBlobStore } from '../../src/results/fs-blob-store.js';
import { Renditions, renditionKey } from '../../src/results/renditions.js';
import { transparentPng } from '../support/fixtures.js';
import { eventually } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import { generateTask } from '../support/task-ops.js';

const IMAGES = `query($id: ID!) { backgroundTask(id: $id) {
  state images { url webp: url(format: WEBP, width: 320) thumbnailUrl }
} }`;

interface Images {
  state: string;
  images: { url: string; webp: string; thumbnailUrl: string }[];
}

type Image = Images['images'][number];

/** A stack with one finished task, and that task's one image, which the tests ask renditions of. */
const it = stackTest({ engine: { durationMs: 300 } }).extend<{ image: Image }>({
  image: [
    async ({ stack }, use) => {
      const { id } = await generateTask(stack, { png: await transparentPng(600, 400), batch: 1 });
      const done = await eventually(async () => {
        const read = await stack.gql<{ backgroundTask: Images }>(IMAGES, { id });
        const task = read.body.data!.backgroundTask;
        return task.state === 'SUCCEEDED' ? task : undefined;
      }, 30_000);
      await use(done.images[0]!);
    },
    { scope: 'file' },
  ],
});

describe('renditions of results (#14)', () => {
  it('serves url(format: WEBP, width: 320) as one 320-px WebP to 20 concurrent first requests', async ({
    image,
  }) => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const response = await fetch(image.webp);
        return {
          status: response.status,
          etag: response.headers.get('etag'),
          body: Buffer.from(await response.arrayBuffer()),
        };
      }),
    );
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([200]));
    expect(new Set(answers.map((a) => a.etag)).size).toBe(1);
    const metadata = await sharp(answers[0]!.body).metadata();
    expect([metadata.format, metadata.width]).toEqual(['webp', 320]);
  });

  it('answers a rendition with 304 and byte ranges like an original', async ({ image }) => {
    const first = await fetch(image.thumbnailUrl);
    expect(first.headers.get('content-type')).toBe('image/webp');
    const etag = first.headers.get('etag')!;
    await first.arrayBuffer();
    expect((await fetch(image.thumbnailUrl, { headers: { 'if-none-match': etag } })).status).toBe(304);
    const range = await fetch(image.thumbnailUrl, { headers: { range: 'bytes=0-3' } });
    expect(range.status).toBe(206);
    expect(
      Buffer.from(await range.arrayBuffer())
        .subarray(0, 4)
        .toString('latin1'),
    ).toBe('RIFF');
  });

  it('refuses a width out of bounds as BAD_USER_INPUT with reason INVALID_RENDITION', async ({
    stack,
    image,
  }) => {
    const answer = await stack.gql<unknown>(
      'query($id: ID!) { backgroundTask(id: $id) { images { url(width: 5000) } } }',
      { id: new URL(image.url).pathname.split('/')[3] },
    );
    expect(answer.body.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'INVALID_RENDITION',
    });
  });
});

describe('Renditions', () => {
  it('renders a rendition once under concurrent first requests', async () => {
    const store = new FsBlobStore(mkdtempSync(join(tmpdir(), 'renditions-')));
    let puts = 0;
    const counting: BlobStore = {
      put: (key, data, type) => {
        puts++;
        return store.put(key, data, type);
      },
      stat: (key) => store.stat(key),
      read: (key, range) => store.read(key, range),
      deletePrefix: (prefix) => store.deletePrefix(prefix),
    };
    const original = await store.put('results/t1/abc.png', await transparentPng(600, 400), 'image/png');
    const key = renditionKey(original.key, 'image/png', { format: 'AVIF', width: null, height: 100 });
    const renditions = new Renditions(counting);
    const infos = await Promise.all(Array.from({ length: 20 }, () => renditions.stat(key)));
    expect(puts).toBe(1);
    expect(new Set(infos.map((info) => info?.contentType))).toEqual(new Set(['image/avif']));
  });
});
