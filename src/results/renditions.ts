import type { Readable } from 'node:stream';
import sharp, { type Sharp } from 'sharp';
import { type FairGate, UNGATED } from '../shared/fair-gate.js';
import { type BlobInfo, type BlobStore, taskBlobPrefixOf } from './blob-store.js';

/** The encodings a result can be rendered in; PNG and WebP and AVIF keep alpha, JPEG is flattened. */
export const RENDITION_FORMATS = ['PNG', 'JPEG', 'WEBP', 'AVIF'] as const;
/** One of {@link RENDITION_FORMATS}. */
export type RenditionFormat = (typeof RENDITION_FORMATS)[number];

/** Sides a rendition may ask for: a thumbnail can be small, none may be larger than PicWish's limit. */
export const RENDITION_SIDE = Object.freeze({ min: 16, max: 4096 });

/**
 * The sides renditions are made at (#27): an asked side goes up to the next step, so one image
 * has at most 23 × 23 sizes (a side may be left out) in each of 4 formats, however many distinct
 * numbers callers send, and a gallery's near sizes share one stored rendition. From 64 px up a
 * step is at most a third above the one before it.
 */
export const RENDITION_STEPS: readonly number[] = Object.freeze([
  16, 32, 48, 64, 80, 96, 128, 160, 192, 256, 320, 400, 512, 640, 800, 1024, 1280, 1600, 2048, 2560, 3200,
  4096,
]);

/** The step an asked side is made at: the smallest step at least as large. */
export function renditionStep(side: number): number {
  return RENDITION_STEPS.find((step) => step >= side) ?? RENDITION_SIDE.max;
}

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
 * The blob key of a rendition of `originalKey`, its sides taken up to their steps. It sits beside the original, under the task's
 * prefix, so deleting the task deletes it; the original's content hash in it keeps it content-addressed.
 * The original itself when nothing would change.
 */
export function renditionKey(originalKey: string, originalType: string, spec: RenditionSpec): string {
  if (spec.width === null && spec.height === null && CONTENT_TYPES[spec.format] === originalType)
    return originalKey;
  const width = spec.width === null ? 0 : renditionStep(spec.width);
  const height = spec.height === null ? 0 : renditionStep(spec.height);
  return `${originalKey}.r-w${width}-h${height}.${EXTENSIONS[spec.format]}`;
}

/** Where renders run: the process's image work, shared fairly between tenants (#27). */
export interface RenditionWork {
  readonly gate: FairGate;
  /** The tenant whose result `originalKey` is (its flow in the gate). */
  readonly flowOf: (originalKey: string) => Promise<string>;
}

/** One render under way and who still waits for it. */
interface Flight {
  readonly result: Promise<BlobInfo | null>;
  readonly abandon: AbortController;
  /** Requests waiting that can go away; one without a signal keeps the render wanted. */
  waiting: number;
  anchored: boolean;
}

/**
 * Makes renditions of stored results when their signed link is first fetched, and stores each once:
 * concurrent first requests for one key share one render (single flight), and later ones find the
 * blob. Exists so a gallery gets 320-px WebPs without the gateway rendering anything nobody asks for.
 *
 * Renders wait for their turn in the process's image work (`work`, #27), fairly per tenant; a
 * render every requester of which went away before its turn is dropped (one that started is
 * finished and stored, so the next request finds it).
 */
export class Renditions {
  readonly #inFlight = new Map<string, Flight>();

  constructor(
    private readonly blobs: BlobStore,
    private readonly work: RenditionWork | null = null,
  ) {}

  /**
   * The stored blob for `key`, rendering it first when `key` names a rendition not made yet.
   * `signal`: the request's; when every request waiting for a render has gone before it started,
   * it is dropped and they are answered `AbandonedWork`.
   */
  async stat(key: string, signal?: AbortSignal): Promise<BlobInfo | null> {
    const found = await this.blobs.stat(key);
    if (found || !RENDITION_KEY.test(key)) return found;
    let flight = this.#inFlight.get(key);
    if (!flight) {
      const abandon = new AbortController();
      const result = this.#render(key, abandon.signal).finally(() => this.#inFlight.delete(key));
      flight = { result, abandon, waiting: 0, anchored: false };
      this.#inFlight.set(key, flight);
    }
    const mine = flight;
    if (!signal) mine.anchored = true;
    else {
      mine.waiting += 1;
      signal.addEventListener(
        'abort',
        () => {
          mine.waiting -= 1;
          if (mine.waiting === 0 && !mine.anchored) mine.abandon.abort();
        },
        { once: true },
      );
    }
    return mine.result;
  }

  /** Streams a stored blob (original or rendition), as the blob store does. */
  read(key: string, range?: { start: number; end: number }): Readable {
    return this.blobs.read(key, range);
  }

  async #render(key: string, signal: AbortSignal): Promise<BlobInfo | null> {
    const existing = await this.blobs.stat(key);
    if (existing) return existing;
    const original = (RENDITION_KEY.exec(key) as RegExpExecArray)[1] as string;
    if (!this.work) return UNGATED(() => this.#make(key));
    const flow = await this.work.flowOf(original);
    return this.work.gate.run(flow, () => this.#make(key), signal);
  }

  async #make(key: string): Promise<BlobInfo | null> {
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
