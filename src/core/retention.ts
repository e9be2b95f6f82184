import type { Logger } from 'pino';
import { isTerminal, type Task } from './model.js';
import type { TaskStore } from './store.js';

/** Tasks looked at per store query; the sweep pages until nothing old is left. */
const BATCH = 200;

/** What the sweep needs: where old tasks are found, and how one is removed with its files. */
export interface RetentionDeps {
  readonly store: TaskStore;
  /** Removes the task and every file of it (TaskService.delete does exactly that). */
  readonly purge: (task: Task) => Promise<void>;
  /** Removes batch records older than the cutoff once their tasks were swept (#15). */
  readonly purgeBatches?: (before: number) => Promise<number>;
  readonly logger: Logger;
}

/** How often the sweep runs: a tenth of the retention, at most hourly and at least every second. */
export function sweepIntervalMs(retentionMs: number): number {
  return Math.max(1_000, Math.min(60 * 60 * 1000, Math.floor(retentionMs / 10)));
}

/**
 * Purges tasks — record and stored images — older than RESULT_RETENTION_DAYS (counted from when
 * the task was created). It runs shortly after start and then every `sweepIntervalMs`, so a file
 * outlives its retention by at most one interval. Unfinished tasks are left alone until they end:
 * purging one mid-flight would strand a PicWish task we are paying for.
 */
export class RetentionSweeper {
  readonly #retentionMs: number;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<number> | null = null;
  #stopped = false;

  constructor(
    private readonly deps: RetentionDeps,
    retentionMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.#retentionMs = retentionMs;
    this.#intervalMs = sweepIntervalMs(retentionMs);
  }

  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** Schedules the first sweep `firstDelayMs` from now (a few seconds by default), then periodic ones. */
  start(firstDelayMs: number = Math.min(5_000, this.#intervalMs)): void {
    this.#stopped = false;
    this.#schedule(firstDelayMs);
  }

  /** Stops scheduling and waits for a sweep in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => 0);
  }

  /** One pass; returns how many tasks were purged. Concurrent calls share the pass in progress. */
  sweep(): Promise<number> {
    this.#running ??= this.#sweep().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.sweep()
        .catch((error: unknown) => this.deps.logger.error({ err: error }, 'retention sweep failed'))
        .finally(() => this.#schedule(this.#intervalMs));
    }, delayMs);
    this.#timer.unref();
  }

  async #sweep(): Promise<number> {
    const cutoff = this.now() - this.#retentionMs;
    let purged = 0;
    const skipped = new Set<string>();
    for (;;) {
      if (this.#stopped) break;
      const limit = BATCH + skipped.size;
      const batch = await this.deps.store.listCreatedBefore(cutoff, limit);
      let progress = false;
      for (const task of batch) {
        if (skipped.has(task.id)) continue;
        if (!isTerminal(task.state)) {
          skipped.add(task.id);
          continue;
        }
        await this.deps.purge(task);
        purged += 1;
        progress = true;
      }
      if (!progress || batch.length < limit) break;
    }
    const batches = this.#stopped ? 0 : ((await this.deps.purgeBatches?.(cutoff)) ?? 0);
    if (purged > 0 || batches > 0)
      this.deps.logger.info(
        { purged, batches, cutoff: new Date(cutoff) },
        'retention sweep purged old tasks',
      );
    return purged;
  }
}
