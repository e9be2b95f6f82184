/**
 * PicWish's wire format, and the defensive parsers that turn its answers into typed values.
 *
 * The contract (PicWish's Generate Background API documentation): every answer is JSON `{ status, message, data }`, and the
 * HTTP status and `status` field both carry the code. A task answer's timestamps are Unix
 * seconds (sometimes strings), images arrive as `image_1`…`image_4` or `image`, `""` means
 * absent, and each image is either a URL or base64 data. Nothing here trusts a field's type.
 */

import type { PendingImage } from '../results/stored-image.js';

/**
 * What the client does to upstream text before it is cut to size (scrubbing secrets, shared/secret-scrubbing.ts):
 * a cut first could leave part of a secret that no scrubber would recognise.
 */
export type Clean = (text: string) => string;
const unchanged: Clean = (text) => text;

/**
 * An image the gateway sends: a spooled file (its type as the intake sniffed it; PNG when not
 * said), bytes already in memory (a stored cutout, #14), or a URL.
 */
export type OutgoingImage =
  | { readonly kind: 'file'; readonly path: string; readonly contentType?: string }
  | { readonly kind: 'bytes'; readonly data: Uint8Array; readonly name: string }
  | { readonly kind: 'url'; readonly url: string };

/** What the gateway asks PicWish to do; exactly one image source and one of prompt/sceneType. */
export interface CreateTaskRequest {
  readonly image: OutgoingImage;
  readonly prompt: string | null;
  readonly sceneType: number | null;
  readonly negativePrompt: string | null;
  readonly batchSize: 1 | 2;
}

/**
 * PicWish's answer to a synchronous background removal (`sync=1`, #14): the cutout, or the
 * failure state PicWish ended it in (negative, as for generate-background) with its words.
 */
export type SegmentationOutcome =
  | { readonly done: true; readonly image: PendingImage }
  | { readonly done: false; readonly state: number; readonly detail: string | null };

/**
 * Reads a `sync=1` segmentation answer: `data.state` 1 with `data.image` (a link or base64), or a
 * negative `data.state`; null for anything else (no state, still working, done without image).
 * PicWish words a failure in `state_detail`; `err_message` is read too (public clients show it).
 */
export function parseSegmentation(body: unknown, clean: Clean = unchanged): SegmentationOutcome | null {
  if (!isRecord(body) || !isRecord(body.data)) return null;
  const data = body.data;
  const state = asNumber(data.state);
  if (state === null || !Number.isInteger(state)) return null;
  if (state < 0) {
    const said = [data.state_detail, data.err_message].find(
      (value) => typeof value === 'string' && value !== '',
    );
    return { done: false, state, detail: typeof said === 'string' ? clean(said).slice(0, 200) : null };
  }
  const image = state === 1 ? parseImage(data.image) : null;
  return image ? { done: true, image } : null;
}

/** A result image as PicWish returned it, in the shape the results layer downloads from. */
export type UpstreamImage = PendingImage;

/** One poll's worth of task status, normalised. Timestamps are epoch milliseconds. */
export interface UpstreamTaskStatus {
  readonly taskId: string;
  readonly state: number;
  readonly stateDetail: string | null;
  readonly progress: number;
  readonly createdAt: number | null;
  readonly processedAt: number | null;
  readonly completedAt: number | null;
  readonly timeElapsedMs: number | null;
  readonly images: readonly UpstreamImage[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asNumber(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return null;
}

/**
 * PicWish's sample shows seconds; milliseconds and ISO strings are accepted too, since the field
 * is documented only as "timestamp". Zero means "not yet".
 */
export function parseTimestamp(value: unknown): number | null {
  const n = asNumber(value);
  if (n !== null) {
    if (n <= 0) return null;
    return n < 1e11 ? Math.round(n * 1000) : Math.round(n);
  }
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? null : parsed;
  }
  return null;
}

const IMAGE_FIELDS = ['image_1', 'image_2', 'image_3', 'image_4', 'image'] as const;

/** Decides whether an image field holds a link or inline data; `data:` URLs count as inline. */
export function parseImage(value: unknown): UpstreamImage | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  if (trimmed === '') return null;
  if (/^https?:\/\//i.test(trimmed)) return { kind: 'url', url: trimmed };
  const dataUrl = /^data:[^;,]*;base64,(.*)$/is.exec(trimmed);
  const data = (dataUrl?.[1] ?? trimmed).replace(/\s+/g, '');
  if (data.length === 0 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(data)) return null;
  return { kind: 'base64', data };
}

/** The envelope's code: the JSON `status` when present, else the HTTP status. */
export function envelopeStatus(httpStatus: number, body: unknown): number {
  if (isRecord(body)) {
    const status = asNumber(body.status);
    if (status !== null) return status;
  }
  return httpStatus;
}

/** The envelope's human message, bounded so a huge or hostile answer cannot flood logs or clients. */
export function envelopeMessage(body: unknown, clean: Clean = unchanged): string | null {
  if (isRecord(body) && typeof body.message === 'string' && body.message.trim() !== '') {
    return clean(body.message.trim()).slice(0, 500);
  }
  return null;
}

/** Reads `data.task_id` from a create answer. */
export function parseCreatedTaskId(body: unknown): string | null {
  if (!isRecord(body) || !isRecord(body.data)) return null;
  const id = body.data.task_id;
  if (typeof id === 'string' && id.trim() !== '') return id.trim();
  if (typeof id === 'number' && Number.isFinite(id)) return String(id);
  return null;
}

/** Reads a task status answer; null when `data` has no usable `state`. */
export function parseTaskStatus(
  body: unknown,
  requestedTaskId: string,
  clean: Clean = unchanged,
): UpstreamTaskStatus | null {
  if (!isRecord(body) || !isRecord(body.data)) return null;
  const data = body.data;
  const state = asNumber(data.state);
  if (state === null || !Number.isInteger(state)) return null;
  const images: UpstreamImage[] = [];
  for (const field of IMAGE_FIELDS) {
    const image = parseImage(data[field]);
    if (image) images.push(image);
  }
  const progress = asNumber(data.progress);
  const elapsed = asNumber(data.time_elapsed);
  return {
    taskId: typeof data.task_id === 'string' && data.task_id !== '' ? data.task_id : requestedTaskId,
    state,
    stateDetail:
      typeof data.state_detail === 'string' && data.state_detail !== ''
        ? clean(data.state_detail).slice(0, 200)
        : null,
    progress: progress === null ? 0 : Math.max(0, Math.min(100, Math.round(progress))),
    createdAt: parseTimestamp(data.created_at),
    processedAt: parseTimestamp(data.processed_at),
    completedAt: parseTimestamp(data.completed_at),
    timeElapsedMs: elapsed === null || elapsed < 0 ? null : Math.round(elapsed),
    images,
  };
}
