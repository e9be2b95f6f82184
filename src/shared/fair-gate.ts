/**
 * Heavy work (image decodes, renditions, URL fetches) run at most `concurrency` at a time in this
 * process, shared fairly between flows (tenants, #27): when a slot frees, it goes to the waiting
 * flow served least recently (one that never ran, first), so waiting flows take turns one item
 * each and a tenant that queues a hundred renders delays another tenant's one by at most one
 * render per busy flow, not by its whole backlog. Work whose requester has gone
 * (`signal` aborted) while it waited is dropped without running; work that started runs to its end.
 */
export class FairGate {
  readonly #concurrency: number;
  /** Waiting work per flow. */
  readonly #waiting = new Map<string, Waiter[]>();
  /** Items running per flow, and when each busy flow last started one (its place in the turns). */
  readonly #busy = new Map<string, { running: number; lastStarted: number }>();
  #started = 0;
  #running = 0;

  /** @param concurrency work items running at once (at least 1). */
  constructor(concurrency: number) {
    this.#concurrency = Math.max(1, Math.floor(concurrency));
  }

  /** Items running now. */
  get running(): number {
    return this.#running;
  }

  /** Items waiting for a slot now, over every flow. */
  get waiting(): number {
    let count = 0;
    for (const queue of this.#waiting.values()) count += queue.length;
    return count;
  }

  /**
   * Runs `work` in `flow`'s turn. Rejects with `AbandonedWork` (and never runs it) when `signal`
   * aborts before its turn came.
   */
  run<T>(flow: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(new AbandonedWork());
    if (this.#running < this.#concurrency && this.#waiting.size === 0) return this.#start(flow, work);
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          this.#start(flow, work).then(resolve, reject);
        },
      };
      const onAbort = () => {
        const queue = this.#waiting.get(flow);
        const index = queue?.indexOf(waiter) ?? -1;
        if (queue && index >= 0) {
          queue.splice(index, 1);
          if (queue.length === 0) this.#waiting.delete(flow);
          if (queue.length === 0 && this.#busy.get(flow)?.running === 0) this.#busy.delete(flow);
        }
        reject(new AbandonedWork());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const queue = this.#waiting.get(flow);
      if (queue) queue.push(waiter);
      else this.#waiting.set(flow, [waiter]);
    });
  }

  async #start<T>(flow: string, work: () => Promise<T>): Promise<T> {
    this.#running += 1;
    this.#started += 1;
    const busy = this.#busy.get(flow);
    if (busy) {
      busy.running += 1;
      busy.lastStarted = this.#started;
    } else this.#busy.set(flow, { running: 1, lastStarted: this.#started });
    try {
      return await work();
    } finally {
      this.#running -= 1;
      const mine = this.#busy.get(flow);
      if (mine) mine.running -= 1;
      // A flow with nothing running or waiting is forgotten: coming back, it banks no turns.
      if (mine && mine.running === 0 && !this.#waiting.has(flow)) this.#busy.delete(flow);
      this.#next();
    }
  }

  /** Gives the free slot to the waiting flow served least recently. */
  #next(): void {
    if (this.#running >= this.#concurrency) return;
    let chosen: string | null = null;
    let oldest = Number.POSITIVE_INFINITY;
    for (const flow of this.#waiting.keys()) {
      const lastStarted = this.#busy.get(flow)?.lastStarted ?? 0;
      if (lastStarted < oldest) {
        chosen = flow;
        oldest = lastStarted;
      }
    }
    if (chosen === null) return;
    const queue = this.#waiting.get(chosen) as Waiter[];
    const waiter = queue.shift() as Waiter;
    if (queue.length === 0) this.#waiting.delete(chosen);
    waiter.start();
  }
}

/**
 * Runs one piece of work in a slot that someone else chose (a FairGate bound to a flow and a
 * requester); modules that do heavy work take one so they need not know about tenants.
 */
export type WorkSlot = <T>(work: () => Promise<T>) => Promise<T>;

/** Runs the work at once: where no gate applies (tools, tests of a module alone). */
export const UNGATED: WorkSlot = (work) => work();

interface Waiter {
  start(): void;
}

/** Work dropped because whoever asked for it went away before its turn. */
export class AbandonedWork extends Error {
  constructor() {
    super('The work was abandoned: whoever asked for it went away before its turn.');
    this.name = 'AbandonedWork';
  }
}
