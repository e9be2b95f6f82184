import type { Task } from '../core/model.js';
import type { QueuedTask, TaskDriver } from '../core/task-driver.js';
import type { KeyLoad, TaskScheduler } from './scheduler.js';

export type { KeyLoad } from './scheduler.js';

/** One key of the pool: its scheduler (own budget, own queue, own election) and how busy it is. */
export interface PoolMember {
  readonly keyId: string;
  readonly scheduler: TaskScheduler;
  /** The key's load (the cluster's counts in a cluster). */
  load(): Promise<KeyLoad>;
}

/**
 * Which configured key drives `task`: the one it was created with, or the first key for a task
 * stored before the pool (no key id) or whose key is no longer configured — better sent by another
 * key than never; a task already sent that way is lost upstream and fails as such.
 */
export function keyOfTask(task: Pick<Task, 'picwishKeyId'>, keyIds: readonly string[]): string {
  const id = task.picwishKeyId;
  return id !== null && id !== undefined && keyIds.includes(id) ? id : (keyIds[0] as string);
}

/**
 * A PicWish key pool (`PICWISH_API_KEYS`): one `TaskScheduler` per key, each with its own QPS
 * budget and waiting queue (and, in a cluster, its own elected leader), so throughput grows with
 * keys. A task sticks to the key that created it — PicWish answers a task's polls only to that
 * key — and a new task goes to the key whose queue is shortest. The service and the schema see
 * one `TaskDriver`; a single key is a pool of one.
 */
export class KeyPool implements TaskDriver {
  readonly #members: ReadonlyMap<string, PoolMember>;
  readonly #keyIds: readonly string[];

  constructor(members: readonly PoolMember[]) {
    if (members.length === 0) throw new RangeError('a key pool needs at least one key');
    this.#members = new Map(members.map((member) => [member.keyId, member]));
    this.#keyIds = members.map((member) => member.keyId);
  }

  /** Every key's scheduler picks up its unfinished tasks and starts working. */
  async start(): Promise<void> {
    await Promise.all(this.#schedulers().map((scheduler) => scheduler.start()));
  }

  /** Every key's scheduler lets its steps in flight finish and hands its key over. */
  async stop(): Promise<void> {
    await Promise.all(this.#schedulers().map((scheduler) => scheduler.stop()));
  }

  /**
   * The key with the shortest queue. While budgets keep up every queue is empty, so a tie goes to
   * the key with fewer unfinished tasks (its polls spend its budget too), then to the first.
   */
  async chooseKey(): Promise<string> {
    if (this.#keyIds.length === 1) return this.#keyIds[0] as string;
    const loads = await Promise.all([...this.#members.values()].map((member) => member.load()));
    const lighter = (a: KeyLoad, b: KeyLoad) =>
      a.waiting < b.waiting || (a.waiting === b.waiting && a.unfinished < b.unfinished);
    let best = 0;
    for (const [i, load] of loads.entries()) if (lighter(load, loads[best] as KeyLoad)) best = i;
    return this.#keyIds[best] as string;
  }

  track(task: Task): void {
    this.#memberOf(task).scheduler.track(task);
  }

  untrack(taskId: string): void {
    for (const scheduler of this.#schedulers()) scheduler.untrack(taskId);
  }

  queuePosition(task: QueuedTask): Promise<number | null> {
    return this.#memberOf(task).scheduler.queuePosition(task);
  }

  estimatedStartAt(task: QueuedTask): Promise<Date | null> {
    return this.#memberOf(task).scheduler.estimatedStartAt(task);
  }

  #memberOf(task: Pick<Task, 'picwishKeyId'>): PoolMember {
    return this.#members.get(keyOfTask(task, this.#keyIds)) as PoolMember;
  }

  #schedulers(): TaskScheduler[] {
    return [...this.#members.values()].map((member) => member.scheduler);
  }
}
