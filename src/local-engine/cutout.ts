import sharp, { type OutputInfo } from 'sharp';
import { err, ok, type Result } from '../shared/result.js';

/** How far (per channel, 0–255) a pixel may be from the border colour and still count as background. */
const TOLERANCE = 24;
/** The largest photo the engine decodes, PicWish's 4096-px limit squared. */
const MAX_PIXELS = 4096 * 4096;

/**
 * The local engine's background removal: NOT AI. It takes the median border colour as the
 * background when the border is uniform (a product shot on white, say) and flood-fills it from the
 * border to transparency; anything else is refused, honestly, rather than cut badly. Exists so the
 * gateway's remove-background step (#14) runs offline against a real HTTP endpoint.
 */
export async function cutOutUniformBorder(photo: Uint8Array): Promise<Result<Buffer, string>> {
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await sharp(photo, { limitInputPixels: MAX_PIXELS })
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch {
    return err('the image cannot be decoded (JPEG, PNG or WebP expected)');
  }
  const { data, info } = decoded;
  const { width, height } = info;
  const border = borderIndices(width, height);
  const background = medianColour(data, border);
  const uniform = border.filter((index) => near(data, index, background)).length;
  if (uniform < border.length * 0.9)
    return err('the border is not a uniform colour; the local engine cannot cut this out');
  const seen = new Uint8Array(width * height);
  const stack = border.filter((index) => near(data, index, background));
  for (const index of stack) seen[index] = 1;
  while (stack.length > 0) {
    const index = stack.pop() as number;
    data[index * 4 + 3] = 0;
    const x = index % width;
    for (const next of [
      index - width,
      index + width,
      x > 0 ? index - 1 : -1,
      x < width - 1 ? index + 1 : -1,
    ]) {
      if (next < 0 || next >= width * height || seen[next]) continue;
      seen[next] = 1;
      if (near(data, next, background)) stack.push(next);
    }
  }
  const png = await sharp(data, { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer();
  return ok(png);
}

function borderIndices(width: number, height: number): number[] {
  const indices: number[] = [];
  for (let x = 0; x < width; x++) indices.push(x, (height - 1) * width + x);
  for (let y = 1; y < height - 1; y++) indices.push(y * width, y * width + width - 1);
  return indices;
}

function medianColour(data: Buffer, indices: readonly number[]): [number, number, number] {
  const channel = (offset: number) => {
    const values = indices.map((index) => data[index * 4 + offset] as number).sort((a, b) => a - b);
    return values[values.length >> 1] as number;
  };
  return [channel(0), channel(1), channel(2)];
}

function near(data: Buffer, index: number, colour: readonly [number, number, number]): boolean {
  const base = index * 4;
  return (
    Math.abs((data[base] as number) - colour[0]) <= TOLERANCE &&
    Math.abs((data[base + 1] as number) - colour[1]) <= TOLERANCE &&
    Math.abs((data[base + 2] as number) - colour[2]) <= TOLERANCE
  );
}
