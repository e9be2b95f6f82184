import sharp from 'sharp';
import { beforeAll, describe, expect } from 'vitest';
import { interlacedPngBomb, misbuiltPngs, productPhotoJpeg } from '../support/fixtures.js';
import { eventually, type TestStack, uploadOperation } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';

/**
 * Issue #27 item 3: a decode has a memory budget (IMAGE_DECODE_BUDGET_MB) that is checked before
 * it starts. The 776 KB bomb — a 12000×8333 16-bit interlaced PNG of zeros, 800 MB decoded — took
 * the gateway's RSS up by about 766 MB per upload; it is now refused from its header. The budget
 * is 16 MB here so that a small progressive JPEG shows the same rule without a large fixture. A
 * photo turned by its EXIF orientation is fitted as it is shown.
 */
const GENERATE = `mutation($file: Upload!, $remove: Boolean) {
  generateBackground(input: {
    image: { file: $file }, background: { prompt: "oak table" }, batchSize: 1, removeBackground: $remove
  }) { id }
}`;

const it = stackTest({ engine: { durationMs: 200 }, env: { IMAGE_DECODE_BUDGET_MB: '16' } });

let bomb: Buffer;
beforeAll(async () => {
  bomb = await interlacedPngBomb();
}, 120_000);

async function upload(stack: TestStack, bytes: Buffer, remove: boolean, name = 'in.png') {
  const answer = await uploadOperation(
    stack.url,
    GENERATE,
    { file: null, remove },
    {
      variablePath: 'variables.file',
      bytes,
      name,
    },
  );
  return answer.body;
}

/** The highest RSS of this process (the gateway runs in it) while `work` runs, above what it was before. */
async function rssGrowth<T>(work: () => Promise<T>): Promise<{ value: T; growthMb: number }> {
  const before = process.memoryUsage.rss();
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  try {
    const value = await work();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { value, growthMb: Math.round((peak - before) / (1024 * 1024)) };
  } finally {
    clearInterval(sampler);
  }
}

describe('decoding within a budget', () => {
  it('refuses the interlaced 16-bit PNG bomb from its header, as a foreground and as a photo, without the memory', async ({
    stack,
  }) => {
    expect(bomb.length).toBeLessThan(800_000);
    for (const remove of [false, true]) {
      const { value: body, growthMb } = await rssGrowth(() => upload(stack, bomb, remove));
      console.info(`bomb (removeBackground: ${remove}): RSS +${growthMb} MB`);
      expect(body.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        reason: 'IMAGE_TOO_LARGE',
      });
      expect(body.errors?.[0]?.message).toMatch(/interlaced PNG is 12000×8333 px.*763 MB.*16 MB budget/);
      expect(growthMb).toBeLessThan(100);
    }
  });

  it('refuses a progressive JPEG over the budget, and takes the same picture as a baseline JPEG', async ({
    stack,
  }) => {
    const picture = sharp({ create: { width: 2000, height: 2000, channels: 3, background: '#ffffff' } });
    const progressive = await picture.clone().jpeg({ progressive: true }).toBuffer();
    const refused = await upload(stack, progressive, true, 'in.jpg');
    expect(refused.errors?.[0]?.extensions).toMatchObject({ reason: 'IMAGE_TOO_LARGE' });
    expect(refused.errors?.[0]?.message).toMatch(/progressive JPEG .* 23 MB .* baseline/);
    const baseline = await picture.clone().jpeg().toBuffer();
    expect((await upload(stack, baseline, true, 'in.jpg')).errors).toBeUndefined();
  });

  it('fits a sideways photo (EXIF orientation 6) as it is shown: upright', async ({ stack }) => {
    // Stored 5000×1000, shown 1000×5000: over 4096 px, so it is fitted (to 819×4096 upright).
    const stored = await sharp(await productPhotoJpeg(5000, 1000))
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toBuffer();
    const body = await upload(stack, stored, true, 'in.jpg');
    expect(body.errors).toBeUndefined();
    const id = (body.data as { generateBackground: { id: string } }).generateBackground.id;
    const images = await eventually(async () => {
      const read = await stack.gql<{
        backgroundTask: { state: string; images: { width: number; height: number }[] };
      }>('query($id: ID!) { backgroundTask(id: $id) { state images { width height } } }', { id });
      const task = read.body.data?.backgroundTask;
      return task?.state === 'SUCCEEDED' ? task.images : undefined;
    }, 30_000);
    expect(images[0]?.height).toBeGreaterThan(images[0]?.width ?? Number.POSITIVE_INFINITY);
  });
});

describe('PNG structure', () => {
  it('refuses bytes after IEND, an IHDR after the image data and an animated PNG before any spend', async ({
    stack,
  }) => {
    const bad = await misbuiltPngs();
    for (const [name, bytes, reason] of [
      ['after IEND', bad.afterIend, 'CORRUPT_IMAGE'],
      ['IHDR after IDAT', bad.ihdrAfterIdat, 'CORRUPT_IMAGE'],
      ['APNG', bad.apng, 'UNSUPPORTED_IMAGE_FORMAT'],
    ] as const) {
      const body = await upload(stack, bytes, false);
      expect(body.errors?.[0]?.extensions, name).toMatchObject({ code: 'BAD_USER_INPUT', reason });
    }
  });
});
