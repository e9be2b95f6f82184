import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { productPhotoJpeg } from '../../support/fixtures.js';
import { type PicWishDouble, startPicWishDouble } from '../../support/picwish-double.js';

let engine: PicWishDouble;

beforeAll(async () => {
  engine = await startPicWishDouble({ durationMs: 0 });
});
afterAll(async () => {
  await engine?.close();
});

async function segment(photo: Buffer, sync = '1'): Promise<Response> {
  const form = new FormData();
  form.set('sync', sync);
  form.set('image_file', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'photo.jpg');
  return fetch(`${engine.url}/api/tasks/visual/segmentation`, {
    method: 'POST',
    body: form,
    headers: { 'x-api-key': engine.apiKey },
  });
}

describe('local engine background removal (#14)', () => {
  it('cuts a white background out of a JPEG product photo, keeping the product opaque', async () => {
    const response = await segment(await productPhotoJpeg());
    const answer = (await response.json()) as { data: { state: number; image: string } };
    expect(answer.data.state).toBe(1);
    const png = Buffer.from(answer.data.image, 'base64');
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    const alphaAt = (x: number, y: number) => data[(y * info.width + x) * info.channels + 3];
    expect([info.width, info.height, info.channels]).toEqual([600, 400, 4]);
    expect(alphaAt(5, 5)).toBe(0);
    expect(alphaAt(300, 200)).toBe(255);
  });

  it('refuses a photo without a uniform border with a failed state, not a bad cutout', async () => {
    const noise = await sharp(
      Buffer.from(Array.from({ length: 300 * 300 * 3 }, (_, i) => (i * 7919) % 256)),
      {
        raw: { width: 300, height: 300, channels: 3 },
      },
    )
      .jpeg()
      .toBuffer();
    const answer = (await (await segment(noise)).json()) as { data: { state: number } };
    expect(answer.data.state).toBeLessThan(0);
  });

  it('counts segmentations apart from creates and takes its faults from its own switch', async () => {
    engine.resetStats();
    engine.faults.segmentationFaults.push({ status: 503 });
    expect((await segment(await productPhotoJpeg())).status).toBe(503);
    expect((await segment(await productPhotoJpeg())).status).toBe(200);
    expect(engine.stats()).toMatchObject({ segmentations: 1, segmentationAttempts: 2, createAttempts: 0 });
  });

  it('answers only sync=1, with 400 otherwise', async () => {
    expect((await segment(await productPhotoJpeg(), '0')).status).toBe(400);
  });
});
