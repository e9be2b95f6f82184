/**
 * When to poll a running task next. The budget is shared by every task, so each poll should be
 * worth its slot:
 *
 * | phase (time since submission)            | interval |
 * |------------------------------------------|----------|
 * | just started (< 3 s): early failures, first progress | 1 s |
 * | middle (< 60 % of the expected duration) | 2 s      |
 * | near the expected end (< 150 %)          | 1 s      |
 * | long-running (beyond 150 %)              | elapsed / 6, at most 5 s |
 *
 * A task somebody is watching is polled at least every 2 s. The expected duration is learned
 * from finished tasks (`DurationEstimate`). With more due polls than the budget carries, the
 * scheduler serves them earliest-due first, so every task keeps moving.
 */
export function nextPollDelay(sinceSubmitMs: number, expectedMs: number, watched: boolean): number {
  let delay: number;
  if (sinceSubmitMs < 3_000) delay = 1_000;
  else if (sinceSubmitMs < expectedMs * 0.6) delay = 2_000;
  else if (sinceSubmitMs < expectedMs * 1.5) delay = 1_000;
  else delay = Math.min(5_000, Math.max(1_000, sinceSubmitMs / 6));
  return watched ? Math.min(delay, 2_000) : delay;
}

/** Retry delay after the `failures`-th consecutive transient fault: exponential, capped, with jitter. */
export function retryDelay(failures: number, random: () => number = Math.random): number {
  const base = Math.min(15_000, 1_000 * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (0.5 + random() * 0.5));
}

/**
 * A moving average of how long tasks take upstream (submission to completion), so the poll
 * policy can aim its polls at the likely end. Starts at 10 s.
 */
export class DurationEstimate {
  #value: number;

  constructor(initialMs = 10_000) {
    this.#value = initialMs;
  }

  get expectedMs(): number {
    return this.#value;
  }

  observe(durationMs: number): void {
    if (!Number.isFinite(durationMs) || durationMs <= 0) return;
    this.#value = Math.round(this.#value * 0.8 + Math.min(durationMs, 600_000) * 0.2);
  }
}
