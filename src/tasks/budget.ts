/**
 * The PicWish key's request budget (`PICWISH_QPS`, 2 by default): every upstream call of one key —
 * creates and polls alike — takes a slot first, so no one-second window carries more than the
 * budget. Slots are spaced evenly (1000/qps ms apart) plus a small margin, because PicWish counts
 * arrivals and network jitter can pull two of our departures closer together.
 */
export interface UpstreamBudget {
  /** Resolves when one more call may start; the slot is spent even if the caller then does nothing. */
  acquire(): Promise<void>;
  /** After a 429: nobody starts a call for `ms`. */
  backOff(ms: number): void;
  /** Calls started so far, for the metrics endpoint. */
  readonly granted: number;
  readonly qps: number;
  close(): void;
}

/** Milliseconds added to every gap, to absorb jitter between our clock and PicWish's. */
export const BUDGET_MARGIN_MS = 25;

/** The in-process budget: one clock for the whole gateway process. */
export class SpacedBudget implements UpstreamBudget {
  readonly qps: number;
  readonly #gapMs: number;
  #nextSlot = 0;
  #granted = 0;
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(
    qps: number,
    private readonly now: () => number = Date.now,
  ) {
    this.qps = qps;
    this.#gapMs = 1000 / qps + BUDGET_MARGIN_MS;
  }

  get granted(): number {
    return this.#granted;
  }

  acquire(): Promise<void> {
    const now = this.now();
    const slot = Math.max(now, this.#nextSlot);
    this.#nextSlot = slot + this.#gapMs;
    this.#granted += 1;
    const wait = slot - now;
    if (wait <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, wait);
      this.#timers.add(timer);
    });
  }

  backOff(ms: number): void {
    this.#nextSlot = Math.max(this.#nextSlot, this.now() + ms);
  }

  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }
}
