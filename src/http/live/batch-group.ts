import type { BatchView } from '../../core/batches.js';
import type { StreamCaller } from './caller.js';
import type { SharedEvent, StreamSpec, Subscriber } from './stream-group.js';

/** One `backgroundBatchUpdated` subscription as the hub shares it (key as for tasks). */
export interface BatchStreamSpec extends Omit<StreamSpec, 'taskId'> {
  readonly batchId: string;
}

/** What a batch group needs from the rest of the gateway. */
export interface BatchGroupDeps {
  /**
   * BatchFeeds.follow for the caller: the view now, each change of the counts, then `complete`;
   * null when the caller may not follow the batch.
   */
  readonly followBatch: (
    caller: StreamCaller,
    batchId: string,
    listener: { next(view: BatchView): void; complete(): void },
  ) => Promise<(() => void) | null>;
  /** Runs the spec's document with `view` as the root value, through Yoga's plugins. */
  readonly executeBatch: (spec: BatchStreamSpec, view: BatchView) => Promise<SharedEvent>;
  readonly onError: (error: unknown, id: string) => void;
}

/**
 * The subscribers of one batch spec. The group follows the batch's feed once and executes each
 * view once for all of them; a member that joins gets the latest executed view first, then every
 * later one, then completion once the batch is done.
 */
export class BatchGroup {
  readonly #members = new Set<Subscriber>();
  #opened: Promise<boolean> | null = null;
  #unfollow: (() => void) | null = null;
  #last: SharedEvent | null = null;
  #done = false;
  #delivering: Promise<void> = Promise.resolve();
  #joining = 0;

  constructor(
    readonly spec: BatchStreamSpec,
    private readonly deps: BatchGroupDeps,
    /** Called once the group has no member and no join under way. */
    private readonly onEmpty: (group: BatchGroup) => void,
  ) {}

  /** Adds a subscriber; resolves to its `leave` function, or null when the caller may not follow the batch. */
  async join(subscriber: Subscriber): Promise<(() => void) | null> {
    this.#joining += 1;
    let followed = false;
    try {
      this.#opened ??= this.#follow();
      followed = await this.#opened;
      // Views already on their way land first, so this member starts from the latest.
      if (followed) await this.#delivering;
    } finally {
      this.#joining -= 1;
    }
    const last = this.#last;
    if (!followed || !last) {
      this.#dropIfEmpty();
      return null;
    }
    subscriber.next(last);
    if (this.#done) {
      subscriber.complete();
      this.#dropIfEmpty();
      return () => {};
    }
    this.#members.add(subscriber);
    return () => {
      if (this.#members.delete(subscriber)) this.#dropIfEmpty();
    };
  }

  async #follow(): Promise<boolean> {
    try {
      const unfollow = await this.deps.followBatch(this.spec.caller, this.spec.batchId, {
        next: (view) => this.#chain(() => this.#deliver(view)),
        complete: () => this.#chain(async () => this.#complete()),
      });
      this.#unfollow = unfollow;
      return unfollow !== null;
    } catch (error) {
      this.deps.onError(error, this.spec.batchId);
      return false;
    }
  }

  /** Views are executed and handed on in the order the feed gave them. */
  #chain(step: () => Promise<void>): void {
    this.#delivering = this.#delivering.then(step).catch((error: unknown) => {
      this.deps.onError(error, this.spec.batchId);
    });
  }

  async #deliver(view: BatchView): Promise<void> {
    const event = await this.deps.executeBatch(this.spec, view);
    this.#last = event;
    for (const member of this.#members) member.next(event);
  }

  #complete(): void {
    this.#done = true;
    const members = [...this.#members];
    this.#members.clear();
    for (const member of members) member.complete();
    this.#dropIfEmpty();
  }

  #dropIfEmpty(): void {
    if (this.#members.size > 0 || this.#joining > 0) return;
    this.#unfollow?.();
    this.#unfollow = null;
    this.onEmpty(this);
  }
}
