import { crc32, createDeflate } from 'node:zlib';
import sharp, { type Color, type Sharp } from 'sharp';

/**
 * The fixtures tests and benchmarks share: foreground PNGs and the common operations. One module,
 * so a change to what a "good upload" is or to the mutation's shape is made once.
 */

/** A red box, half as wide and high as the picture, in the middle of `background`. */
async function redBoxOn(width: number, height: number, background: Color, channels: 3 | 4): Promise<Sharp> {
  const box = await sharp({
    create: { width: Math.round(width / 2), height: Math.round(height / 2), channels, background: '#c81e1e' },
  })
    .png()
    .toBuffer();
  return sharp({ create: { width, height, channels, background } }).composite([
    { input: box, gravity: 'center' },
  ]);
}

/** A transparent PNG with an opaque rectangle in the middle: what PicWish expects as a foreground. */
export async function transparentPng(width = 600, height = 400): Promise<Buffer> {
  return (await redBoxOn(width, height, { r: 0, g: 0, b: 0, alpha: 0 }, 4)).png().toBuffer();
}

/**
 * A JPEG product photo with its background still in: a red box on plain white, what users of
 * `removeBackground` (#14) upload and what the local engine's flood fill can cut out.
 */
export async function productPhotoJpeg(width = 600, height = 400): Promise<Buffer> {
  return (await redBoxOn(width, height, '#ffffff', 3)).jpeg().toBuffer();
}

/**
 * A valid transparent PNG padded to `totalBytes` with a private ancillary chunk (`bnCh`, safe to
 * ignore by any decoder) placed just before IEND.
 */
export async function paddedPng(totalBytes: number, width = 1024, height = 1024): Promise<Buffer> {
  const base = await transparentPng(width, height);
  const iend = base.subarray(base.length - 12);
  const body = base.subarray(0, base.length - 12);
  const padding = Math.max(0, totalBytes - base.length - 12);
  const filler = Buffer.alloc(padding);
  for (let i = 0; i < filler.length; i += 4096) filler[i] = i & 0xff;
  return Buffer.concat([body, pngChunk('bnCh', filler), iend]);
}

/** One PNG chunk: length, type, data and CRC. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** `generateBackground` with the whole input as one variable, `$input`: for input checks. */
export const GENERATE_INPUT =
  'mutation Generate($input: GenerateBackgroundInput!) { generateBackground(input: $input) { id state } }';

/**
 * `generateBackground` for one upload at `variables.file`, selecting `fields`. Every other input is
 * a variable with a default: `$prompt` ("white studio"), `$batch` (2), `$key` and `$deadline` (none).
 */
export function generateUpload(fields = 'id state'): string {
  return `mutation Generate($file: Upload!, $prompt: String! = "white studio", $batch: Int! = 2, $key: String, $deadline: Int) {
  generateBackground(input: {
    image: { file: $file }, background: { prompt: $prompt }, batchSize: $batch,
    idempotencyKey: $key, deadlineSeconds: $deadline
  }) { ${fields} }
}`;
}

/** Adam7's passes: where each starts and how far it steps, across and down. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/**
 * A decompression bomb (#27): an interlaced 16-bit RGBA PNG of `width`×`height` whose pixels are all
 * zero (fully transparent), deflated as it is made so the test never holds its decoded size
 * (12000×8333 is about 776 KB on disk, 800 MB decoded). libvips cannot stream an interlaced PNG:
 * it decodes the whole frame at once.
 */
export async function interlacedPngBomb(width = 12_000, height = 8_333): Promise<Buffer> {
  const bytesPerPixel = 8;
  let raw = 0;
  for (const [x0, y0, dx, dy] of ADAM7) {
    const passWidth = Math.ceil((width - x0) / dx);
    const passHeight = Math.ceil((height - y0) / dy);
    if (passWidth > 0 && passHeight > 0) raw += passHeight * (1 + passWidth * bytesPerPixel);
  }
  const deflate = createDeflate({ level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => out.push(chunk));
  const done = new Promise<void>((resolve, reject) => {
    deflate.once('end', resolve);
    deflate.once('error', reject);
  });
  // Filter bytes (0, "none") and samples are all zero: the raw stream is `raw` zero bytes.
  const zeros = Buffer.alloc(1 << 20);
  for (let left = raw; left > 0; left -= zeros.length) {
    if (!deflate.write(left >= zeros.length ? zeros : zeros.subarray(0, left))) {
      await new Promise((resolve) => deflate.once('drain', resolve));
    }
  }
  deflate.end();
  await done;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([16, 6, 0, 0, 1], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', Buffer.concat(out)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * Variants of a good PNG the structure checks refuse (#27): bytes after IEND, a second IHDR after
 * the image data, and an animated PNG (an acTL chunk before IDAT).
 */
export async function misbuiltPngs(): Promise<Record<'afterIend' | 'ihdrAfterIdat' | 'apng', Buffer>> {
  const good = await transparentPng(300, 300);
  const signature = good.subarray(0, 8);
  const ihdr = good.subarray(8, 33);
  const rest = good.subarray(33, good.length - 12);
  const iend = good.subarray(good.length - 12);
  const acTL = Buffer.alloc(8);
  acTL.writeUInt32BE(1, 0);
  return {
    afterIend: Buffer.concat([good, Buffer.from('trailing bytes')]),
    ihdrAfterIdat: Buffer.concat([signature, ihdr, rest, ihdr, iend]),
    apng: Buffer.concat([signature, ihdr, pngChunk('acTL', acTL), rest, iend]),
  };
}
