import { isTerminal, type Task } from '../core/model.js';
import type { TaskStore } from '../core/store.js';

/** What adoption needs from the scheduler it feeds. */
export interface AdoptionHooks {
  /** True while the task has a step scheduled or in flight here. */
  isDriving(taskId: string): boolean;
  /** Start driving a task this process now owns. */
  drive(task: Task, dueAt?: number): void;
}

/**
 * Which tasks this process drives: the one part of the scheduler that knows other gateway
 * processes exist. The scheduler asks it before every step, so swapping the implementation changes
 * who drives what and nothing else: `LocalAdoption` for a lone process, `ElectedAdoption`
 * (src/adapters/postgres/) for one elected scheduler per PicWish key in a cluster.
 */
export interface TaskAdoption {
  /** Drives every unfinished task that is ours (all of them, for a lone process), then keeps looking. */
  start(hooks: AdoptionHooks): Promise<void>;
  /** True while this process may drive `taskId` (local knowledge, no round trip). */
  holds(taskId: string): boolean;
  /** A new task that is not ours yet: drive it if it becomes ours. */
  claim(task: Task, dueAt: number): void;
  /** We stopped driving `taskId` (it finished, or was cancelled or deleted). */
  release(taskId: string): void;
  /** No more adopting; what is claimed after this is not driven. */
  stop(): void;
  /** After the last step settled: hand every task over now (to another instance, if any). */
  handBack(): Promise<void>;
}

/**
 * A lone process (the embedded mode): every task is its own from the start, so it drives every
 * unfinished task in the store when it starts — after a restart too — and nothing ever moves.
 */
export class LocalAdoption implements TaskAdoption {
  readonly #store: TaskStore;
  #hooks: AdoptionHooks | null = null;
  #running = false;

  constructor(store: TaskStore) {
    this.#store = store;
  }

  async start(hooks: AdoptionHooks): Promise<void> {
    this.#hooks = hooks;
    this.#running = true;
    const ids = (await this.#store.listUnfinishedIds()).filter((id) => !hooks.isDriving(id));
    const tasks = await Promise.all(ids.map((id) => this.#store.get(id)));
    for (const task of tasks) {
      // Finished (or deleted) since the listing, or stop() ran meanwhile: nothing to drive.
      if (!task || isTerminal(task.state) || !this.#running || hooks.isDriving(task.id)) continue;
      hooks.drive(task);
    }
  }

  holds(): boolean {
    return true;
  }

  claim(task: Task, dueAt: number): void {
    if (this.#running && this.#hooks && !this.#hooks.isDriving(task.id)) this.#hooks.drive(task, dueAt);
  }

  release(): void {
    // Nothing is held per task.
  }

  stop(): void {
    this.#running = false;
  }

  async handBack(): Promise<void> {
    // There is nobody to hand over to: the next start adopts what is unfinished.
  }
}
