import { crc32 } from 'node:zlib';
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
  return Buffer.concat([body, chunk('bnCh', filler), iend]);
}

function chunk(type: string, data: Buffer): Buffer {
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
