/**
 * The PicWish key's request budget (`PICWISH_QPS`, 2 by default): every upstream call of one key —
 * creates and polls alike — takes a slot first, so no one-second window carries more than the
 * budget.
 *
 * Two rules, both must allow a call:
 *
 * 1. **Spacing** — grants are at least `1000/qps + BUDGET_MARGIN_MS` apart, so traffic is smooth
 *    rather than bursty.
 * 2. **Window, by answer time** — PicWish counts *arrivals*, which we never see: a call arrives
 *    somewhere between the moment we grant it and the moment its answer (or our timeout) comes
 *    back. So a call occupies the window from its grant until `windowMs + margin` after it
 *    *settled*, and a new call is granted only while fewer than `perWindow` calls occupy it (a
 *    call still in flight always does). Whatever the latency or jitter between grant and arrival,
 *    no window of PicWish's can then hold more than `perWindow` of our calls. Spacing alone cannot
 *    promise that: a create that spends 60 ms reading its upload before it leaves lets the next
 *    two calls land inside one second.
 *
 * `perWindow` is `floor(qps)` calls per 1 s (at least 1); below 1 QPS it is 1 call per `1000/qps`
 * ms. A fractional budget above 1 (e.g. 2.5) is therefore rounded down to whole calls per second,
 * because a second can hold only whole calls.
 */
export interface UpstreamBudget {
  /**
   * Resolves with a slot when one more call may start, or null once `signal` aborts. The caller
   * must `release()` the slot as soon as the call has settled (answered, failed or timed out);
   * a slot not used for a call is released at once.
   */
  acquire(signal?: AbortSignal): Promise<BudgetSlot | null>;
  /** After a 429: nobody starts a call for `ms`. */
  backOff(ms: number): void;
  /** Calls started so far, for the metrics endpoint. */
  readonly granted: number;
  readonly qps: number;
  close(): void;
}

/** One granted call; `release` is idempotent. */
export interface BudgetSlot {
  /** `used` false: no call was made after all, so the slot does not count against the window. */
  release(used?: boolean): void;
}

/** Milliseconds added to every gap and window, to absorb clock granularity on both sides. */
export const BUDGET_MARGIN_MS = 25;

interface Waiter {
  resolve: (slot: BudgetSlot | null) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/** The in-process budget: one clock for the whole gateway process. */
export class SpacedBudget implements UpstreamBudget {
  readonly qps: number;
  /** How many calls one window may hold. */
  readonly perWindow: number;
  /** The window PicWish counts over, in ms. */
  readonly windowMs: number;
  readonly #gapMs: number;
  #nextSlot = 0;
  #granted = 0;
  #inFlight = 0;
  /** When recent calls settled, ascending; older than one window (plus margin) are dropped. */
  #settled: number[] = [];
  readonly #waiters: Waiter[] = [];
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(
    qps: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(qps > 0) || !Number.isFinite(qps)) throw new RangeError(`qps must be positive, got ${qps}`);
    this.qps = qps;
    this.perWindow = Math.max(1, Math.floor(qps));
    this.windowMs = Math.max(1000, (this.perWindow * 1000) / qps);
    this.#gapMs = 1000 / qps + BUDGET_MARGIN_MS;
  }

  get granted(): number {
    return this.#granted;
  }

  /** Calls granted and not yet released. */
  get inFlight(): number {
    return this.#inFlight;
  }

  acquire(signal?: AbortSignal): Promise<BudgetSlot | null> {
    if (this.#closed || signal?.aborted) return Promise.resolve(null);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        resolve,
        signal,
        onAbort: () => {
          const index = this.#waiters.indexOf(waiter);
          if (index >= 0) this.#waiters.splice(index, 1);
          resolve(null);
          this.#pump();
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.#waiters.push(waiter);
      this.#pump();
    });
  }

  backOff(ms: number): void {
    this.#nextSlot = Math.max(this.#nextSlot, this.now() + ms);
    this.#pump();
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    for (const waiter of this.#waiters.splice(0)) {
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(null);
    }
  }

  /** The earliest moment a new call may be granted, or null while it must wait for a release. */
  #earliest(now: number): number | null {
    const horizon = this.windowMs + BUDGET_MARGIN_MS;
    while (this.#settled.length > 0 && (this.#settled[0] as number) <= now - horizon) this.#settled.shift();
    const room = this.perWindow - this.#inFlight;
    if (room <= 0) return null;
    let at = Math.max(now, this.#nextSlot);
    // At most room-1 settled calls may still occupy the window at `at`.
    const excess = this.#settled.length - (room - 1);
    if (excess > 0) at = Math.max(at, (this.#settled[excess - 1] as number) + horizon);
    return at;
  }

  #pump(): void {
    if (this.#closed) return;
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    while (this.#waiters.length > 0) {
      const now = this.now();
      const at = this.#earliest(now);
      if (at === null) return; // a release will pump again
      if (at > now) {
        this.#timer = setTimeout(() => {
          this.#timer = null;
          this.#pump();
        }, at - now);
        return;
      }
      const waiter = this.#waiters.shift() as Waiter;
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(this.#grant(now));
    }
  }

  #grant(now: number): BudgetSlot {
    const previousNext = this.#nextSlot;
    this.#nextSlot = now + this.#gapMs;
    const grantedNext = this.#nextSlot;
    this.#granted += 1;
    this.#inFlight += 1;
    let released = false;
    return {
      release: (used = true) => {
        if (released) return;
        released = true;
        this.#inFlight -= 1;
        if (used) this.#settled.push(this.now());
        // Unused and nothing granted or backed off since: hand the gap back.
        else if (this.#nextSlot === grantedNext) this.#nextSlot = previousNext;
        this.#pump();
      },
    };
  }
}
