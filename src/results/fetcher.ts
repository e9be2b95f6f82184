import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { Agent, request } from 'undici';
import { err, ok, type Result } from '../shared/result.js';
import { type BlobStore, taskBlobPrefix } from './blob-store.js';
import type { PendingImage, StoredImage } from './stored-image.js';

/** Why a result could not be stored: gone for good, worth another try, or not an image at all. */
export interface FetchFault {
  readonly kind: 'gone' | 'transient' | 'invalid';
  readonly detail: string;
}

/** Limits for downloading results; PicWish's are at most 1024×1024, so 25 MB is generous. */
export interface ResultFetcherOptions {
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

const FORMATS: Readonly<Record<string, { contentType: string; ext: string }>> = {
  png: { contentType: 'image/png', ext: 'png' },
  jpeg: { contentType: 'image/jpeg', ext: 'jpg' },
  webp: { contentType: 'image/webp', ext: 'webp' },
};

/**
 * Takes a result out of PicWish's hands before its one-hour link dies: downloads it (or decodes
 * inline base64), checks that it is an image, and stores it under the task's prefix.
 */
export class ResultFetcher {
  readonly #agent: Agent;

  constructor(
    private readonly blobs: BlobStore,
    private readonly options: ResultFetcherOptions,
  ) {
    this.#agent = new Agent({
      connectTimeout: Math.min(options.timeoutMs, 10_000),
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
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

  /** Removes whatever was stored for `taskId` (results that came in after it was cancelled). */
  async discard(taskId: string): Promise<void> {
    await this.blobs.deletePrefix(taskBlobPrefix(taskId));
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }

  async #download(url: string): Promise<Result<Uint8Array, FetchFault>> {
    try {
      const response = await request(url, {
        dispatcher: this.#agent,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      if (response.statusCode === 404 || response.statusCode === 410 || response.statusCode === 403) {
        await response.body.dump();
        return err({ kind: 'gone', detail: `the result link answered ${response.statusCode}` });
      }
      if (response.statusCode < 200 || response.statusCode >= 300) {
        await response.body.dump();
        return err({ kind: 'transient', detail: `the result link answered ${response.statusCode}` });
      }
      const declared = Number(response.headers['content-length'] ?? 0);
      if (declared > this.options.maxBytes) {
        response.body.destroy();
        return err({ kind: 'invalid', detail: `the result is larger than ${this.options.maxBytes} bytes` });
      }
      const chunks: Buffer[] = [];
      let total = 0;
      for await (const chunk of response.body) {
        total += (chunk as Buffer).byteLength;
        if (total > this.options.maxBytes) {
          response.body.destroy();
          return err({ kind: 'invalid', detail: `the result is larger than ${this.options.maxBytes} bytes` });
        }
        chunks.push(chunk as Buffer);
      }
      return ok(Buffer.concat(chunks));
    } catch (error) {
      const code = (error as { code?: string }).code ?? (error as Error).name;
      return err({ kind: 'transient', detail: `downloading the result failed (${code})` });
    }
  }
}

function decodeBase64(data: string, maxBytes: number): Result<Uint8Array, FetchFault> {
  if (data.length > Math.ceil((maxBytes * 4) / 3) + 4) {
    return err({ kind: 'invalid', detail: `the result is larger than ${maxBytes} bytes` });
  }
  const bytes = Buffer.from(data, data.includes('-') || data.includes('_') ? 'base64url' : 'base64');
  if (bytes.byteLength === 0) return err({ kind: 'invalid', detail: 'the result is empty' });
  return ok(bytes);
}
