import { createHash } from 'node:crypto';
import sharp from 'sharp';
import {
  GuardedFetcher,
  type GuardedFetcherOptions,
  type OutboundProblem,
  readAll,
} from '../outbound/index.js';
import { err, ok, type Result } from '../shared/result.js';
import { type BlobStore, taskBlobPrefix } from './blob-store.js';
import type { PendingImage, StoredImage } from './stored-image.js';

/** Why a result could not be stored: gone for good, worth another try, or not an image at all. */
export interface FetchFault {
  readonly kind: 'gone' | 'transient' | 'invalid';
  readonly detail: string;
}

/**
 * Limits and address policy for downloading results; PicWish's are at most 1024×1024, so 25 MB is
 * generous. `trustedOrigins` names the configured upstream (PICWISH_BASE_URL, or the local engine
 * on loopback), whose links are its own; a link anywhere else is checked like a client's URL.
 */
export type ResultFetcherOptions = Pick<
  GuardedFetcherOptions,
  'timeoutMs' | 'maxBytes' | 'allowPrivate' | 'trustedOrigins' | 'resolve' | 'connector'
>;

const FORMATS: Readonly<Record<string, { contentType: string; ext: string }>> = {
  png: { contentType: 'image/png', ext: 'png' },
  jpeg: { contentType: 'image/jpeg', ext: 'jpg' },
  webp: { contentType: 'image/webp', ext: 'webp' },
};

/**
 * Takes a result out of PicWish's hands before its one-hour link dies: downloads it through the
 * guarded fetcher (or decodes inline base64), checks that it is an image, and stores it under the
 * task's prefix.
 */
export class ResultFetcher {
  readonly #downloads: GuardedFetcher;

  constructor(
    private readonly blobs: BlobStore,
    private readonly options: ResultFetcherOptions,
  ) {
    this.#downloads = new GuardedFetcher(options);
  }

  async fetch(taskId: string, image: PendingImage): Promise<Result<StoredImage, FetchFault>> {
    const bytes =
      image.kind === 'base64'
        ? decodeBase64(image.data, this.options.maxBytes)
        : await this.#download(image.url);
    if (!bytes.ok) return bytes;
    let format: { contentType: string; ext: string } | undefined;
    let width: number | undefined;
    let height: number | undefined;
    try {
      const meta = await sharp(bytes.value, { limitInputPixels: 4096 * 4096 }).metadata();
      format = meta.format ? FORMATS[meta.format] : undefined;
      width = meta.width;
      height = meta.height;
    } catch {
      format = undefined;
    }
    if (!format || !width || !height)
      return err({ kind: 'invalid', detail: 'the result is not a PNG, JPEG or WebP image' });
    const sha256 = createHash('sha256').update(bytes.value).digest('hex');
    const key = `${taskBlobPrefix(taskId)}${sha256}.${format.ext}`;
    const stored = await this.blobs.put(key, bytes.value, format.contentType);
    return ok({ key, width, height, contentType: format.contentType, bytes: stored.bytes });
  }

  /**
   * The bytes of an image stored by `fetch`: a `removeBackground` task's cutout (#14) is sent on
   * to PicWish from the blob store, which (unlike the spool) every instance of a cluster shares.
   * Rejects when the blob is gone.
   */
  async load(image: StoredImage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.blobs.read(image.key)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** Removes whatever was stored for `taskId` (results that came in after it was cancelled). */
  async discard(taskId: string): Promise<void> {
    await this.blobs.deletePrefix(taskBlobPrefix(taskId));
  }

  async close(): Promise<void> {
    await this.#downloads.close();
  }

  async #download(url: string): Promise<Result<Uint8Array, FetchFault>> {
    const opened = await this.#downloads.open(url, { expectImage: true });
    const bytes = opened.ok ? await readAll(opened.value) : opened;
    return bytes.ok ? bytes : err(toFetchFault(bytes.error));
  }
}

/**
 * A link that answers 403/404/410 is gone for good; one the policy refuses, or whose content is
 * too large or not an image, will not get better either; anything else may pass (a timeout, a
 * 5xx, a broken connection) and is tried again while PicWish's hour lasts.
 */
function toFetchFault(problem: OutboundProblem): FetchFault {
  const detail = `the result link failed: ${problem.message}`;
  switch (problem.reason) {
    case 'URL_UNREACHABLE':
      return {
        kind: problem.status !== undefined && GONE.has(problem.status) ? 'gone' : 'transient',
        detail,
      };
    case 'URL_TIMEOUT':
      return { kind: 'transient', detail };
    default:
      return { kind: 'invalid', detail };
  }
}

const GONE: ReadonlySet<number> = new Set([403, 404, 410]);

function decodeBase64(data: string, maxBytes: number): Result<Uint8Array, FetchFault> {
  if (data.length > Math.ceil((maxBytes * 4) / 3) + 4) {
    return err({ kind: 'invalid', detail: `the result is larger than ${maxBytes} bytes` });
  }
  const bytes = Buffer.from(data, data.includes('-') || data.includes('_') ? 'base64url' : 'base64');
  if (bytes.byteLength === 0) return err({ kind: 'invalid', detail: 'the result is empty' });
  return ok(bytes);
}
