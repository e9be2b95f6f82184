/**
 * PicWish limits each API key to a few requests per second (2 by default) and answers 429 beyond
 * that. The engine enforces the same rule strictly, over a sliding one-second window, so the
 * gateway's pacing and retry logic are exercised against a real limit rather than a mock.
 */
export class SlidingWindowLimiter {
  private readonly limit: number | null;
  private readonly windowMs: number;
  private readonly hits = new Map<string, number[]>();

  /** `limit` null means unlimited. */
  constructor(limit: number | null, windowMs = 1000) {
    this.limit = limit;
    this.windowMs = windowMs;
  }

  /** Admits a request for `key` if the window has room; refused requests do not use up budget. */
  tryAcquire(key: string, nowMs: number): boolean {
    if (this.limit === null) return true;
    const recent = (this.hits.get(key) ?? []).filter((at) => at > nowMs - this.windowMs);
    const admitted = recent.length < this.limit;
    if (admitted) recent.push(nowMs);
    this.hits.set(key, recent);
    return admitted;
  }
}
