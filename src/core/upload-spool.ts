import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { access, constants, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { spoolAndInspectPng } from '../images/inspect.js';
import { PICWISH_PNG_LIMITS, type PngLimits } from '../images/limits.js';
import { spoolAndInspectPhoto } from '../images/photo.js';
import type { ImageProblem } from '../images/problems.js';
import { ok, type Result } from '../shared/result.js';
import type { TaskSource } from './model.js';
import type { TaskStore } from './store.js';

/** A spooled upload as a task records it. */
export type SpooledSource = Extract<TaskSource, { kind: 'file' }>;

/**
 * The one owner of the spool directory, where an upload waits until PicWish has it. Every file's
 * whole life goes through here: written (and inspected) when the request arrives, removed once it
 * was sent, refused, or its task is over, and swept at start-up when a crash left it behind. The
 * spool holds nothing else, so any file no unfinished task names is garbage.
 */
export class UploadSpool {
  readonly dir: string;
  readonly #limits: PngLimits;

  /** `maxImageBytes` is PICWISH_MAX_IMAGE_BYTES: what PicWish takes; larger inputs are fitted to it. */
  constructor(dir: string, maxImageBytes: number = PICWISH_PNG_LIMITS.maxBytes) {
    this.dir = dir;
    this.#limits = { ...PICWISH_PNG_LIMITS, maxBytes: maxImageBytes };
    mkdirSync(dir, { recursive: true });
  }

  /**
   * Streams an upload for task `taskId` into the spool with the image checks, fitting an oversized
   * one unless `fit` is false; on any problem nothing is left on disk.
   */
  async accept(taskId: string, upload: Readable, fit = true): Promise<Result<SpooledSource, ImageProblem>> {
    const spooled = await spoolAndInspectPng(upload, join(this.dir, `${taskId}.png`), {
      limits: this.#limits,
      fit,
    });
    if (!spooled.ok) return spooled;
    const { path, sha256, bytes, width, height } = spooled.value;
    return ok({ kind: 'file', spoolPath: path, sha256, bytes, width, height, contentType: 'image/png' });
  }

  /**
   * The same for a `removeBackground` photo (#14): a JPEG, PNG or WebP with its background in,
   * checked by `spoolAndInspectPhoto` instead of the transparency checks.
   */
  async acceptPhoto(
    taskId: string,
    upload: Readable,
    fit = true,
  ): Promise<Result<SpooledSource, ImageProblem>> {
    const spooled = await spoolAndInspectPhoto(upload, join(this.dir, `${taskId}.photo`), {
      limits: this.#limits,
      fit,
    });
    if (!spooled.ok) return spooled;
    const { path, sha256, bytes, width, height, contentType } = spooled.value;
    return ok({ kind: 'file', spoolPath: path, sha256, bytes, width, height, contentType });
  }

  /** The upload is no longer needed (sent, refused, or its task is over); a URL source has none. */
  async discard(source: TaskSource): Promise<void> {
    if (source.kind === 'file' && source.spoolPath) await rm(source.spoolPath, { force: true });
  }

  /**
   * False when the upload cannot be read any more (removed, or a DATA_DIR the cluster does not
   * share): nothing can have been sent from it, so nothing was charged.
   */
  async isReadable(source: SpooledSource): Promise<boolean> {
    if (source.spoolPath === '') return false;
    return access(source.spoolPath, constants.R_OK).then(
      () => true,
      () => false,
    );
  }

  /**
   * Removes uploads whose task is gone or finished: leftovers of a crash. Files younger than
   * `graceMs` stay, because in a cluster another process may be spooling one right now.
   */
  async sweepOrphans(store: TaskStore, graceMs: number): Promise<void> {
    const live = new Set<string>();
    for (const task of await store.listUnfinished()) {
      if (task.source.kind === 'file') live.add(task.source.spoolPath);
    }
    const cutoff = Date.now() - graceMs;
    for (const name of readdirSync(this.dir)) {
      const path = join(this.dir, name);
      if (live.has(path)) continue;
      if (graceMs > 0 && (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0) > cutoff) continue;
      rmSync(path, { force: true });
    }
  }
}
