import type { Logger } from 'pino';
import type { TaskEvents } from '../core/events.js';
import { isTerminal, type Task } from '../core/model.js';
import type { TaskStore } from '../core/store.js';
import { LocalOwnership, type TaskOwnership, type WatcherProbe } from './ownership.js';

/** What adoption needs from the scheduler it feeds. */
export interface AdoptionHooks {
  /** True while the task has a step scheduled or in flight here. */
  isDriving(taskId: string): boolean;
  /** Start driving a task this process now owns. */
  drive(task: Task, dueAt?: number): void;
  /** Every task driven here, for asking who watches them elsewhere. */
  drivenIds(): string[];
}

/**
 * Which tasks this process drives, and the cluster knowledge that comes with them: the one part
 * of the scheduler that knows other gateway processes exist. The scheduler asks it before every
 * step, so swapping the implementation changes who drives what and nothing else. Today that is
 * `LeaseAdoption` (one lease per task); PostgreSQL cluster mode (issue #13) can replace it with
 * one elected scheduler per PicWish key behind the same interface.
 */
export interface TaskAdoption {
  /** Drives every unfinished task that is ours (all of them, for a lone process), then keeps looking. */
  start(hooks: AdoptionHooks): Promise<void>;
  /** True while this process may drive `taskId` (local knowledge, no round trip). */
  holds(taskId: string): boolean;
  /** A new task that is not ours yet: try to take it, and drive it if we got it. */
  claim(task: Task, dueAt: number): void;
  /** We stopped driving `taskId` (it finished, or was cancelled or deleted). */
  release(taskId: string): void;
  /** True when subscribers on other processes watch `taskId` (last known answer). */
  watchedElsewhere(taskId: string): boolean;
  /** No more adopting; what is claimed after this goes straight back. */
  stop(): void;
  /** After the last step settled: hand every task over now rather than when leases lapse. */
  handBack(): Promise<void>;
}

/** What `LeaseAdoption` works with; the ownership and probe default to one lone process. */
export interface LeaseAdoptionDeps {
  readonly store: TaskStore;
  readonly events: TaskEvents;
  readonly logger: Logger;
  readonly ownership?: TaskOwnership;
  readonly watchers?: WatcherProbe;
}

/**
 * Adoption by per-task leases (`TaskOwnership`): at start and then every `scanEveryMs`, claim the
 * unfinished tasks nobody drives (their owner died and its leases lapsed) and drive the ones won.
 * It also refreshes, every `refreshEveryMs`, which driven tasks are watched on other processes.
 */
export class LeaseAdoption implements TaskAdoption {
  readonly #deps: LeaseAdoptionDeps;
  readonly #ownership: TaskOwnership;
  #hooks: AdoptionHooks | null = null;
  #running = false;
  #scan: NodeJS.Timeout | null = null;
  #watchRefresh: NodeJS.Timeout | null = null;
  /** Tasks driven here that subscribers on other processes watch. */
  #remoteWatched = new Set<string>();

  constructor(deps: LeaseAdoptionDeps) {
    this.#deps = deps;
    this.#ownership = deps.ownership ?? new LocalOwnership();
  }

  async start(hooks: AdoptionHooks): Promise<void> {
    this.#hooks = hooks;
    this.#running = true;
    const probe = this.#deps.watchers;
    if (probe) {
      this.#watchRefresh = setInterval(() => {
        const ids = hooks.drivenIds().filter((id) => this.#deps.events.watcherCount(id) === 0);
        probe.watched(ids).then(
          (watched) => {
            this.#remoteWatched = watched;
          },
          () => {
            // The probe did not answer: keep the last answer.
          },
        );
      }, probe.refreshEveryMs);
      this.#watchRefresh.unref();
    }
    await this.#adopt(hooks);
    const every = this.#ownership.scanEveryMs;
    if (every !== null) {
      // In a cluster: take over the tasks of processes that died (their leases lapsed).
      this.#scan = setInterval(() => {
        this.#adopt(hooks).catch((error: unknown) =>
          this.#deps.logger.warn({ err: (error as Error).message }, 'could not look for orphaned tasks'),
        );
      }, every);
      this.#scan.unref();
    }
  }

  holds(taskId: string): boolean {
    return this.#ownership.holds(taskId);
  }

  claim(task: Task, dueAt: number): void {
    this.#ownership.claim([task.id]).then(
      (mine) => {
        // The periodic scan may have claimed and driven it meanwhile: `task` is then a stale snapshot
        // that would put a submitted task back in the waiting queue.
        if (!mine.includes(task.id)) return;
        if (!this.#running || !this.#hooks) {
          // Won after stop() handed everything back: give it back too rather than let it lapse.
          this.release(task.id);
          return;
        }
        if (this.#hooks.isDriving(task.id)) return;
        this.#hooks.drive(task, dueAt);
      },
      (error: unknown) => {
        // Not lost: the periodic scan claims it once the lease store answers again.
        this.#deps.logger.warn({ err: (error as Error).message, taskId: task.id }, 'could not claim a task');
      },
    );
  }

  release(taskId: string): void {
    this.#ownership.release(taskId).catch(() => {
      // A lease not released lapses by itself.
    });
  }

  watchedElsewhere(taskId: string): boolean {
    return this.#remoteWatched.has(taskId);
  }

  stop(): void {
    this.#running = false;
    if (this.#scan) clearInterval(this.#scan);
    if (this.#watchRefresh) clearInterval(this.#watchRefresh);
  }

  async handBack(): Promise<void> {
    await this.#ownership.releaseAll().catch((error: unknown) => {
      this.#deps.logger.warn({ err: (error as Error).message }, 'could not release task leases');
    });
    this.#ownership.close();
  }

  /**
   * Claims the unfinished tasks nobody drives and drives them. In a cluster this runs every
   * `scanEveryMs`, so it reads ids only and fetches just the tasks it won.
   */
  async #adopt(hooks: AdoptionHooks): Promise<void> {
    const { store } = this.#deps;
    const candidates = (await store.listUnfinishedIds()).filter((id) => !hooks.isDriving(id));
    if (candidates.length === 0 || !this.#running) return;
    const mine = await this.#ownership.claim(candidates);
    if (!this.#running) {
      // stop() ran meanwhile and handed its leases back: these go back too rather than lapse.
      for (const id of mine) this.release(id);
      return;
    }
    const tasks = await Promise.all(mine.map((id) => store.get(id)));
    for (const [i, task] of tasks.entries()) {
      if (!task || isTerminal(task.state)) {
        // Finished (or deleted) since the listing: nothing to drive, so no lease to keep.
        this.release(mine[i] as string);
        continue;
      }
      if (hooks.isDriving(task.id)) continue;
      hooks.drive(task);
    }
  }
}
