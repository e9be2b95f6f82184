import sharp from 'sharp';
import { err, ok, type Result } from '../shared/result.js';
import type { BackdropStyle, Material } from './style.js';

/**
 * Procedural composition: a wall, a floor plane with a material texture, lighting, a contact
 * shadow under the subject, and the transparent foreground on top. Pixels are painted in plain
 * JavaScript (one pass, typed arrays) because that is both fast enough and fully deterministic;
 * sharp does the decoding, resizing and PNG encoding.
 *
 * One file of ~340 lines because the painting passes (wall, floor texture, light, shadow) share
 * the same pixel buffers and layout boxes; split apart they would hand a dozen arrays around.
 */

/** PicWish's documented output bound: the longer side never exceeds it. */
const MAX_OUTPUT_SIDE = 1024;

interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

interface Foreground {
  width: number;
  height: number;
  rgba: Buffer;
  box: Box | null;
}

/** What makes the second image different from the first: light side, gradient, floor line, tone. */
interface Variant {
  lightX: number;
  diagonal: boolean;
  horizonShift: number;
  floorTone: number;
  neonHeight: number;
  seedOffset: number;
}

const VARIANTS: readonly Variant[] = [
  { lightX: 0.2, diagonal: false, horizonShift: 0, floorTone: 1, neonHeight: 0.42, seedOffset: 0 },
  { lightX: 0.8, diagonal: true, horizonShift: 0.05, floorTone: 0.9, neonHeight: 0.28, seedOffset: 7919 },
];

/** Alpha above this counts as the subject when looking for where it stands. */
const ALPHA_THRESHOLD = 16;

type Noise = (x: number, y: number) => number;

/** Smooth value noise in 0..1, seeded so a prompt always renders the same texture. */
function makeNoise(seed: number): Noise {
  const perm = new Uint8Array(512);
  const values = new Float32Array(256);
  let state = seed >>> 0 || 1;
  const random = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  for (let i = 0; i < 256; i++) {
    values[i] = random();
    perm[i] = i;
  }
  for (let i = 255; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = t;
  }
  for (let i = 0; i < 256; i++) perm[i + 256] = perm[i]!;
  const at = (xi: number, yi: number): number => values[perm[(perm[xi & 255]! + yi) & 255]!]!;
  return (x, y) => {
    const xi = Math.floor(x);
    const yi = Math.floor(y);
    const xf = x - xi;
    const yf = y - yi;
    const u = xf * xf * (3 - 2 * xf);
    const v = yf * yf * (3 - 2 * yf);
    const a = at(xi, yi);
    const b = at(xi + 1, yi);
    const c = at(xi, yi + 1);
    const d = at(xi + 1, yi + 1);
    return a + (b - a) * u + (c - a) * v + (a - b - c + d) * u * v;
  };
}

/** Per-pixel white noise in 0..1 for grain and speckles. */
function grain(x: number, y: number, seed: number): number {
  let h = (Math.imul(x, 374761393) + Math.imul(y, 668265263) + seed) | 0;
  h = Math.imul(h ^ (h >>> 13), 1274126177);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** A brightness multiplier around 1 at floor-plane coordinates (u across, v into the distance). */
type Texture = (u: number, v: number, x: number, y: number, noise: Noise, seed: number) => number;

const TEXTURES: Readonly<Record<Material, Texture>> = {
  marble: (u, v, _x, _y, noise) => {
    const t = noise(u * 0.9, v * 0.9);
    const vein = (1 - Math.abs(Math.sin(u * 1.7 + v * 0.9 + t * 5))) ** 10;
    return 0.97 + 0.05 * t - 0.22 * vein;
  },
  wood: (u, v, _x, _y, noise, seed) => {
    const plank = Math.floor(u * 1.6);
    const f = u * 1.6 - plank;
    const tone = grain(plank, 0, seed);
    const rings = Math.sin((v * 0.9 + tone * 20 + noise(u * 3, v * 0.3) * 2) * 6);
    const seam = f < 0.025 || f > 0.975 ? 0.72 : 1;
    return seam * (0.9 + 0.06 * rings + 0.12 * (tone - 0.5));
  },
  concrete: (u, v, x, y, noise, seed) =>
    0.92 + 0.1 * noise(u * 2.5, v * 2.5) + 0.06 * (grain(x, y, seed) - 0.5),
  sand: (u, v, x, y, noise, seed) =>
    0.95 + 0.05 * Math.sin(v * 3 + noise(u, v) * 4) + 0.08 * (grain(x, y, seed) - 0.5),
  grass: (u, v, x, y, noise, seed) => 0.8 + 0.18 * noise(u * 2, v * 2) + 0.3 * (grain(x, y >> 2, seed) - 0.5),
  water: (u, v, _x, _y, noise) =>
    0.92 + 0.14 * Math.sin(v * 2.2 + Math.sin(u * 1.3) * 0.9 + noise(u * 0.8, v * 0.8) * 2.5),
  fabric: (u, v, _x, _y, noise) =>
    ((Math.floor(u * 24) + Math.floor(v * 24)) & 1 ? 0.96 : 1.02) *
    (0.96 + 0.07 * Math.sin(u * 1.4 + noise(u * 0.5, v * 0.5) * 3)),
  metal: (u, v, _x, y, noise, seed) =>
    0.88 + 0.06 * grain(0, y, seed) + 0.05 * noise(u * 0.5, v * 0.5) + 0.25 * Math.exp(-u * u * 2),
  stone: (u, v, x, y, noise, seed) =>
    0.78 +
    0.3 * noise(u * 1.2, v * 1.2) +
    0.08 * noise(u * 4 + 9, v * 4 + 3) +
    0.05 * (grain(x, y, seed) - 0.5),
  paper: (u, v, x, y, noise, seed) => 0.97 + 0.04 * noise(u * 6, v * 6) + 0.025 * (grain(x, y, seed) - 0.5),
};

const plainFloor: Texture = (_u, _v, x, y, _noise, seed) => 1 + 0.012 * (grain(x, y, seed) - 0.5);

function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
}

function smoothstep(edge0: number, edge1: number, x: number): number {
  const t = clamp((x - edge0) / (edge1 - edge0), 0, 1);
  return t * t * (3 - 2 * t);
}

function alphaBox(rgba: Buffer, width: number, height: number): Box | null {
  let left = width;
  let top = height;
  let right = -1;
  let bottom = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width * 4;
    for (let x = 0; x < width; x++) {
      if (rgba[row + x * 4 + 3]! > ALPHA_THRESHOLD) {
        if (x < left) left = x;
        if (x > right) right = x;
        if (y < top) top = y;
        bottom = y;
      }
    }
  }
  return right < 0 ? null : { left, top, right: right + 1, bottom: bottom + 1 };
}

async function decodeForeground(source: Buffer): Promise<Result<Foreground, 'undecodable'>> {
  try {
    const { data, info } = await sharp(source)
      .resize({ width: MAX_OUTPUT_SIDE, height: MAX_OUTPUT_SIDE, fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) return err('undecodable');
    return ok({
      width: info.width,
      height: info.height,
      rgba: data,
      box: alphaBox(data, info.width, info.height),
    });
  } catch {
    return err('undecodable');
  }
}

/** Where the floor begins: a little above the subject's base, so it appears to stand on the floor. */
function chooseHorizon(height: number, box: Box | null, shift: number): number {
  const base = box ? box.bottom - 0.3 * (box.bottom - box.top) : 0.62 * height;
  return clamp(base + shift * height, 0.3 * height, 0.85 * height);
}

function paint(fg: Foreground, style: BackdropStyle, variant: Variant): Uint8ClampedArray {
  const { width: W, height: H, rgba, box } = fg;
  const out = new Uint8ClampedArray(W * H * 3);
  const moods = style.moods;
  const seed = (style.seed + variant.seedOffset) | 0;
  const noise = makeNoise(seed);
  const texture = style.material ? TEXTURES[style.material] : plainFloor;
  const calm = moods.has('minimal') || moods.has('studio');
  const sunset = moods.has('sunset');
  const night = moods.has('night');
  const neon = moods.has('neon');
  const textureAmp = calm ? 0.5 : 1;

  const horizon = chooseHorizon(H, box, variant.horizonShift);
  const blend = calm ? Math.max(2, 0.12 * H) : Math.max(1.5, 0.006 * H);
  const blendStart = calm ? horizon - blend : horizon - blend / 2;
  const blendEnd = calm ? horizon + blend / 2 : horizon + blend / 2;

  const lightX = variant.lightX * W;
  const lightY = 0.08 * H;
  const lightSpread = 2 * (0.5 * Math.max(W, H)) ** 2;
  const vignette = moods.has('dark') || night || neon ? 0.45 : 0.22;
  const halfDiagonal2 = (W / 2) ** 2 + (H / 2) ** 2;

  const sunX = lightX;
  const sunY = horizon - 0.1 * H;
  const sunR = 0.07 * Math.min(W, H);
  const sunGlow = 2 * (2.5 * sunR) ** 2;
  const neonY = horizon * variant.neonHeight;
  const neonX0 = 0.12 * W;
  const neonX1 = 0.88 * W;
  const neonCore = 2 * Math.max(1.5, 0.006 * H) ** 2;
  const neonHalo = 2 * (0.05 * H) ** 2;

  const shadow = box
    ? {
        cx: (box.left + box.right) / 2 + (variant.lightX < 0.5 ? 1 : -1) * 0.05 * (box.right - box.left),
        cy: box.bottom - 0.01 * (box.bottom - box.top),
        rx: Math.max(6, 0.52 * (box.right - box.left)),
        ry: Math.max(3, 0.045 * (box.bottom - box.top) + 0.012 * H),
      }
    : null;

  const [wt0, wt1, wt2] = style.wallTop;
  const [wb0, wb1, wb2] = style.wallBottom;
  const [f0, f1, f2] = style.floor;
  const [a0, a1, a2] = style.accent;

  for (let y = 0; y < H; y++) {
    const floorWeight = smoothstep(blendStart, blendEnd, y);
    const depth = clamp((y - horizon) / (H - horizon), 0, 1);
    const z = 1 / (depth + 0.06);
    const floorGain = (0.86 + 0.2 * depth) * variant.floorTone;
    const amp = Math.min(1, depth * 5) * textureAmp;
    for (let x = 0; x < W; x++) {
      const t = variant.diagonal
        ? clamp(0.55 * (y / horizon) + 0.45 * (1 - x / W), 0, 1)
        : clamp(y / horizon, 0, 1);
      let r = wt0 + (wb0 - wt0) * t;
      let g = wt1 + (wb1 - wt1) * t;
      let b = wt2 + (wb2 - wt2) * t;

      if (y < horizon) {
        if (sunset) {
          const d2 = (x - sunX) ** 2 + (y - sunY) ** 2;
          const k = Math.max(
            0.55 * Math.exp(-d2 / sunGlow),
            1 - smoothstep(sunR - 1.5, sunR + 1.5, Math.sqrt(d2)),
          );
          r += (a0 - r) * k;
          g += (a1 - g) * k;
          b += (a2 - b) * k;
        }
        if (night && grain(x, y, seed ^ 0x5bd1) > 0.9988) {
          r += (255 - r) * 0.85;
          g += (255 - g) * 0.85;
          b += (255 - b) * 0.85;
        }
      }
      if (neon) {
        const dx = x < neonX0 ? neonX0 - x : x > neonX1 ? x - neonX1 : 0;
        const d2 = dx * dx + (y - neonY) ** 2;
        const k = 0.9 * Math.exp(-d2 / neonCore) + 0.35 * Math.exp(-d2 / neonHalo);
        r += a0 * k;
        g += a1 * k;
        b += a2 * k;
      }

      if (floorWeight > 0) {
        const u = ((x - W / 2) / W) * z * 3;
        const m = 1 + (texture(u, z * 3, x, y, noise, seed) - 1) * amp;
        const gain = floorGain * m;
        r += (f0 * gain - r) * floorWeight;
        g += (f1 * gain - g) * floorWeight;
        b += (f2 * gain - b) * floorWeight;
      } else {
        const dither = 1 + 0.006 * (grain(x, y, seed) - 0.5);
        r *= dither;
        g *= dither;
        b *= dither;
      }

      let light = 1 + 0.16 * Math.exp(-((x - lightX) ** 2 + (y - lightY) ** 2) / lightSpread);
      light *= 1 - (vignette * ((x - W / 2) ** 2 + (y - H / 2) ** 2)) / halfDiagonal2;
      if (shadow) {
        const dx = x - shadow.cx;
        const dy = y - shadow.cy;
        if (Math.abs(dx) < 3 * shadow.rx && Math.abs(dy) < 6 * shadow.ry) {
          const core = (dx / shadow.rx) ** 2 + (dy / shadow.ry) ** 2;
          const ambient = (dx / (1.5 * shadow.rx)) ** 2 + (dy / (3.2 * shadow.ry)) ** 2;
          light *= (1 - 0.55 * Math.exp(-2.2 * core)) * (1 - 0.22 * Math.exp(-1.6 * ambient));
        }
      }
      r *= light;
      g *= light;
      b *= light;

      const i = (y * W + x) * 4;
      const alpha = rgba[i + 3]! / 255;
      const o = (y * W + x) * 3;
      out[o] = r + (rgba[i]! - r) * alpha;
      out[o + 1] = g + (rgba[i + 1]! - g) * alpha;
      out[o + 2] = b + (rgba[i + 2]! - b) * alpha;
    }
  }
  return out;
}

/**
 * Renders `count` distinct composites of the source's foreground over backdrops in the given
 * style. Fails with 'undecodable' when the source cannot be decoded as an image.
 */
export async function renderBackgrounds(
  source: Buffer,
  style: BackdropStyle,
  count: 1 | 2,
): Promise<Result<Buffer[], 'undecodable'>> {
  const decoded = await decodeForeground(source);
  if (!decoded.ok) return decoded;
  const fg = decoded.value;
  const images: Buffer[] = [];
  for (const variant of VARIANTS.slice(0, count)) {
    // Give pending HTTP requests a turn between the synchronous paint passes.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const pixels = paint(fg, style, variant);
    const png = await sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), {
      raw: { width: fg.width, height: fg.height, channels: 3 },
    })
      .png({ compressionLevel: 4 })
      .toBuffer();
    images.push(png);
  }
  return ok(images);
}
