/**
 * Bounds how many renders run at once: painting is synchronous JavaScript, so an unbounded burst
 * of creates would keep the event loop busy and delay every poll behind it.
 */
export class Semaphore {
  private readonly capacity: number;
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  /** `capacity` may be Infinity for no bound. */
  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** Runs `job` once a slot is free and frees the slot when it settles. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.active < this.capacity) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await job();
    } finally {
      // A waiter inherits the slot directly, so `active` only drops when nobody is queued.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
