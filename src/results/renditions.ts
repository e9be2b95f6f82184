import type { Readable } from 'node:stream';
import sharp, { type Sharp } from 'sharp';
import { type BlobInfo, type BlobStore, taskBlobPrefixOf } from './blob-store.js';

/** The encodings a result can be rendered in; PNG and WebP and AVIF keep alpha, JPEG is flattened. */
export const RENDITION_FORMATS = ['PNG', 'JPEG', 'WEBP', 'AVIF'] as const;
/** One of {@link RENDITION_FORMATS}. */
export type RenditionFormat = (typeof RENDITION_FORMATS)[number];

/** Sides a rendition may ask for: a thumbnail can be small, none may be larger than PicWish's limit. */
export const RENDITION_SIDE = Object.freeze({ min: 16, max: 4096 });

/** What a page asked for; a missing side follows the aspect ratio, no side means the original size. */
export interface RenditionSpec {
  readonly format: RenditionFormat;
  readonly width: number | null;
  readonly height: number | null;
}

const EXTENSIONS: Readonly<Record<RenditionFormat, string>> = {
  PNG: 'png',
  JPEG: 'jpg',
  WEBP: 'webp',
  AVIF: 'avif',
};
const CONTENT_TYPES: Readonly<Record<RenditionFormat, string>> = {
  PNG: 'image/png',
  JPEG: 'image/jpeg',
  WEBP: 'image/webp',
  AVIF: 'image/avif',
};
/** `<original>.r-w<width>-h<height>.<ext>`: the original's key (its content hash) plus the spec. */
const RENDITION_KEY = /^(.+\.[a-z]+)\.r-w(\d+)-h(\d+)\.(png|jpg|webp|avif)$/;
/** The largest original read into memory for rendering (PicWish results are about 1–5 MB). */
const MAX_ORIGINAL_BYTES = 32 * 1024 * 1024;

/** Why a spec is refused, in words for the person who asked; null when it is within bounds. */
export function renditionProblem(spec: RenditionSpec): string | null {
  for (const [name, side] of [
    ['width', spec.width],
    ['height', spec.height],
  ] as const) {
    if (
      side !== null &&
      (!Number.isInteger(side) || side < RENDITION_SIDE.min || side > RENDITION_SIDE.max)
    ) {
      return `${name} must be between ${RENDITION_SIDE.min} and ${RENDITION_SIDE.max} px, got ${side}.`;
    }
  }
  return null;
}

/**
 * The blob key of a rendition of `originalKey`. It sits beside the original, under the task's
 * prefix, so deleting the task deletes it; the original's content hash in it keeps it content-addressed.
 * The original itself when nothing would change.
 */
export function renditionKey(originalKey: string, originalType: string, spec: RenditionSpec): string {
  if (spec.width === null && spec.height === null && CONTENT_TYPES[spec.format] === originalType)
    return originalKey;
  return `${originalKey}.r-w${spec.width ?? 0}-h${spec.height ?? 0}.${EXTENSIONS[spec.format]}`;
}

/**
 * Makes renditions of stored results when their signed link is first fetched, and stores each once:
 * concurrent first requests for one key share one render (single flight), and later ones find the
 * blob. Exists so a gallery gets 320-px WebPs without the gateway rendering anything nobody asks for.
 */
export class Renditions {
  readonly #inFlight = new Map<string, Promise<BlobInfo | null>>();

  constructor(private readonly blobs: BlobStore) {}

  /** The stored blob for `key`, rendering it first when `key` names a rendition not made yet. */
  async stat(key: string): Promise<BlobInfo | null> {
    const found = await this.blobs.stat(key);
    if (found || !RENDITION_KEY.test(key)) return found;
    let flight = this.#inFlight.get(key);
    if (!flight) {
      flight = this.#render(key).finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, flight);
    }
    return flight;
  }

  /** Streams a stored blob (original or rendition), as the blob store does. */
  read(key: string, range?: { start: number; end: number }): Readable {
    return this.blobs.read(key, range);
  }

  async #render(key: string): Promise<BlobInfo | null> {
    const existing = await this.blobs.stat(key);
    if (existing) return existing;
    const [, original, w, h, ext] = RENDITION_KEY.exec(key) as RegExpExecArray;
    const source = await this.blobs.stat(original as string);
    if (!source || source.bytes > MAX_ORIGINAL_BYTES) return null;
    const input = await readAll(this.blobs.read(source.key));
    const format = (Object.keys(EXTENSIONS) as RenditionFormat[]).find(
      (f) => EXTENSIONS[f] === ext,
    ) as RenditionFormat;
    const width = Number(w) || undefined;
    const height = Number(h) || undefined;
    let image = sharp(input, { limitInputPixels: RENDITION_SIDE.max * RENDITION_SIDE.max });
    if (width || height) image = image.resize({ width, height, fit: 'inside', withoutEnlargement: true });
    const output = await encode(image, format).toBuffer();
    let stored: BlobInfo | null;
    try {
      stored = await this.blobs.put(key, output, CONTENT_TYPES[format]);
    } catch (error) {
      if (await this.blobs.stat(source.key)) throw error;
      stored = null;
    }
    // The task was deleted while this rendered: its folder was emptied before (or while) the
    // rendition was stored, so remove what this put back, and answer as for a deleted task.
    if (await this.blobs.stat(source.key)) return stored;
    const prefix = taskBlobPrefixOf(source.key);
    if (prefix) await this.blobs.deletePrefix(prefix);
    return null;
  }
}

function encode(image: Sharp, format: RenditionFormat): Sharp {
  switch (format) {
    case 'PNG':
      return image.png();
    case 'JPEG':
      return image.flatten({ background: '#ffffff' }).jpeg({ quality: 85, mozjpeg: true });
    case 'WEBP':
      return image.webp({ quality: 82 });
    case 'AVIF':
      return image.avif({ quality: 55 });
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
