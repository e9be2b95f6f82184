import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { access, constants, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { spoolAndInspectPng } from '../images/inspect.js';
import { DECODE_BUDGET_BYTES, PICWISH_PNG_LIMITS, type PngLimits } from '../images/limits.js';
import { spoolAndInspectPhoto } from '../images/photo.js';
import type { ImageProblem } from '../images/problems.js';
import { UNGATED, type WorkSlot } from '../shared/fair-gate.js';
import { ok, type Result } from '../shared/result.js';
import type { TaskSource } from './model.js';
import type { TaskStore } from './store.js';

/** A spooled upload as a task records it. */
export type SpooledSource = Extract<TaskSource, { kind: 'file' }>;

/**
 * Where a cluster keeps a copy of every spooled upload (the S3 blob store with
 * `BLOB_STORE_URL=s3://…`), so the elected leader can send an upload another instance accepted —
 * and still send it when that instance is gone. The shape is `S3BlobStore`'s.
 */
export interface SpoolMirror {
  putStream(key: string, body: Readable, contentType: string): Promise<void>;
  stat(key: string): Promise<unknown | null>;
  read(key: string): Readable;
  deletePrefix(prefix: string): Promise<void>;
}

/** The mirror's folder of one task's upload: `spool/<taskId>/`, named from the spooled file. */
function mirrorPrefix(spoolPath: string): string {
  return `spool/${basename(spoolPath).replace(/\.[^.]*$/, '')}/`;
}

function mirrorKey(spoolPath: string): string {
  return `${mirrorPrefix(spoolPath)}${basename(spoolPath)}`;
}

function readable(path: string): Promise<boolean> {
  return access(path, constants.R_OK).then(
    () => true,
    () => false,
  );
}

/**
 * The one owner of the spool directory, where an upload waits until PicWish has it. Every file's
 * whole life goes through here: written (and inspected) when the request arrives, removed once it
 * was sent, refused, or its task is over, and swept at start-up when a crash left it behind. The
 * spool holds nothing else, so any file no unfinished task names is garbage.
 *
 * With a `mirror` (a cluster on S3) every accepted upload is also put there before its task is
 * stored, and an instance that does not have the file fetches it back (`localPath`), checked
 * against the sha256 the task recorded.
 */
export class UploadSpool {
  readonly dir: string;
  readonly #limits: PngLimits;
  readonly #mirror: SpoolMirror | null;

  /**
   * `maxImageBytes` is PICWISH_MAX_IMAGE_BYTES: what PicWish takes; larger inputs are fitted to it.
   * `decodeBudgetBytes` is IMAGE_DECODE_BUDGET_MB (limits.ts, `maxDecodeBytes`).
   */
  constructor(
    dir: string,
    maxImageBytes: number = PICWISH_PNG_LIMITS.maxBytes,
    mirror: SpoolMirror | null = null,
    decodeBudgetBytes: number = DECODE_BUDGET_BYTES,
  ) {
    this.dir = dir;
    this.#limits = { ...PICWISH_PNG_LIMITS, maxBytes: maxImageBytes, maxDecodeBytes: decodeBudgetBytes };
    this.#mirror = mirror;
    mkdirSync(dir, { recursive: true });
  }

  /**
   * Streams an upload for task `taskId` into the spool with the image checks, fitting an oversized
   * one unless `fit` is false; on any problem nothing is left on disk.
   */
  async accept(
    taskId: string,
    upload: Readable,
    fit = true,
    decode: WorkSlot = UNGATED,
  ): Promise<Result<SpooledSource, ImageProblem>> {
    const spooled = await spoolAndInspectPng(upload, join(this.dir, `${taskId}.png`), {
      limits: this.#limits,
      fit,
      decode,
    });
    if (!spooled.ok) return spooled;
    const { path, sha256, bytes, width, height } = spooled.value;
    return this.#mirrored({
      kind: 'file',
      spoolPath: path,
      sha256,
      bytes,
      width,
      height,
      contentType: 'image/png',
    });
  }

  /**
   * The same for a `removeBackground` photo (#14): a JPEG, PNG or WebP with its background in,
   * checked by `spoolAndInspectPhoto` instead of the transparency checks.
   */
  async acceptPhoto(
    taskId: string,
    upload: Readable,
    fit = true,
    decode: WorkSlot = UNGATED,
  ): Promise<Result<SpooledSource, ImageProblem>> {
    const spooled = await spoolAndInspectPhoto(upload, join(this.dir, `${taskId}.photo`), {
      limits: this.#limits,
      fit,
      decode,
    });
    if (!spooled.ok) return spooled;
    const { path, sha256, bytes, width, height, contentType } = spooled.value;
    return this.#mirrored({ kind: 'file', spoolPath: path, sha256, bytes, width, height, contentType });
  }

  /**
   * The accepted upload, copied to the mirror first when there is one. A mirror that fails leaves
   * nothing behind and throws: a task stored without its copy could be sent by no other instance.
   */
  async #mirrored(source: SpooledSource): Promise<Result<SpooledSource, ImageProblem>> {
    if (this.#mirror) {
      try {
        await this.#mirror.putStream(
          mirrorKey(source.spoolPath),
          createReadStream(source.spoolPath),
          source.contentType ?? 'image/png',
        );
      } catch (error) {
        await rm(source.spoolPath, { force: true });
        throw error;
      }
    }
    return ok(source);
  }

  /**
   * A file on this instance holding the upload, to send it from: the spooled file itself, or —
   * with a mirror, when another instance accepted it — a copy fetched from the mirror into this
   * spool and checked against the recorded sha256. Null when the upload is gone (nothing can have
   * been sent from it); throws when the mirror cannot be reached (worth trying again).
   */
  async localPath(source: SpooledSource): Promise<string | null> {
    if (source.spoolPath === '') return null;
    if (await readable(source.spoolPath)) return source.spoolPath;
    const mirror = this.#mirror;
    if (!mirror) return null;
    const local = join(this.dir, basename(source.spoolPath));
    if (await readable(local)) return local;
    const key = mirrorKey(source.spoolPath);
    if ((await mirror.stat(key)) === null) return null;
    const partial = `${local}.${randomUUID()}.part`;
    const hash = createHash('sha256');
    const hashing = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(mirror.read(key), hashing, createWriteStream(partial));
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    if (hash.digest('hex') !== source.sha256) {
      await rm(partial, { force: true });
      return null;
    }
    await rename(partial, local);
    return local;
  }

  /**
   * The upload is no longer needed (sent, refused, or its task is over); a URL source has none.
   * The mirror's copy goes too; if the mirror cannot be reached it stays, which costs storage only.
   */
  async discard(source: TaskSource): Promise<void> {
    if (source.kind !== 'file' || !source.spoolPath) return;
    await rm(source.spoolPath, { force: true });
    await rm(join(this.dir, basename(source.spoolPath)), { force: true });
    await this.#mirror?.deletePrefix(mirrorPrefix(source.spoolPath)).catch(() => undefined);
  }

  /**
   * False when the upload cannot be read any more (removed, or gone with the instance that
   * accepted it when there is no mirror): nothing can have been sent from it, so nothing was charged.
   */
  async isReadable(source: SpooledSource): Promise<boolean> {
    if (source.spoolPath === '') return false;
    if (await readable(source.spoolPath)) return true;
    if (!this.#mirror) return false;
    if (await readable(join(this.dir, basename(source.spoolPath)))) return true;
    return (await this.#mirror.stat(mirrorKey(source.spoolPath)).catch(() => null)) !== null;
  }

  /**
   * Removes uploads whose task is gone or finished: leftovers of a crash. Files younger than
   * `graceMs` stay, because in a cluster another process may be spooling one right now.
   */
  async sweepOrphans(store: TaskStore, graceMs: number): Promise<void> {
    const live = new Set<string>();
    for (const task of await store.listUnfinished()) {
      // By name: an instance's copy fetched from the mirror sits in its own spool under that name.
      if (task.source.kind === 'file') live.add(basename(task.source.spoolPath));
    }
    const cutoff = Date.now() - graceMs;
    for (const name of readdirSync(this.dir)) {
      const path = join(this.dir, name);
      if (live.has(name)) continue;
      if (graceMs > 0 && (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0) > cutoff) continue;
      rmSync(path, { force: true });
    }
  }
}
