/**
 * When to poll a running task next. The budget (`PICWISH_QPS`) is shared by every create and
 * poll, so a poll that finds the task still running is a slot some other task did not get. Each
 * poll therefore has two times:
 *
 * - **due** — when it must happen; due polls compete for slots with due creates (see below);
 * - **early** — from when it may happen *if the budget has nothing due to spend a slot on*. Idle
 *   slots cost nothing, so they buy progress updates and early failure reports for free.
 *
 * | phase (time since submission)                 | due in                           | early from |
 * |-----------------------------------------------|----------------------------------|------------|
 * | before the expected duration                  | at the expected duration (≥ 1 s) | 1 s        |
 * | around it (< 1.5 × expected)                  | 1 s                              | 1 s        |
 * | long-running (≥ 1.5 × expected)               | elapsed / 6, 1–5 s; watched ≤ 2 s | 1 s        |
 *
 * The expected duration is learned from finished tasks (`DurationEstimate`: mean of the first
 * five, then a moving average; 10 s before any finished). Aiming the first due poll at it means a
 * busy budget spends about one poll per task.
 *
 * How the scheduler shares slots (slot-arbitration.ts): when a slot is free it goes to due work
 * first — creates in arrival order, polls earliest-due first, and when both are waiting they take
 * turns, two polls then one create (`POLLS_PER_CREATE`): a poll of a finished task completes it
 * with one call, so finished work is reported before new work starts, yet creates keep at least a
 * third of the budget under any load. So neither a burst of creates nor a crowd of polls starves
 * the other; a due poll waits at most for the due polls ahead of it at two thirds of the budget.
 * Only when nothing is due does a slot go to an early poll (earliest first).
 */
export interface PollPlan {
  /** From now until the poll is due. */
  readonly dueInMs: number;
  /** From now until it may be taken early, on an otherwise idle slot; never after `dueInMs`. */
  readonly earlyInMs: number;
}

/** Minimum spacing of two polls of one task. */
const MIN_POLL_INTERVAL_MS = 1_000;

/** The table above as code, so the scheduler and the doc cannot drift apart (test/unit/scheduler/poll-policy.test.ts). */
export function planNextPoll(sinceSubmitMs: number, expectedMs: number, watched: boolean): PollPlan {
  let due: number;
  if (sinceSubmitMs < expectedMs) due = expectedMs - sinceSubmitMs;
  else if (sinceSubmitMs < expectedMs * 1.5) due = MIN_POLL_INTERVAL_MS;
  else due = Math.min(watched ? 2_000 : 5_000, sinceSubmitMs / 6);
  due = Math.max(MIN_POLL_INTERVAL_MS, due);
  return { dueInMs: due, earlyInMs: Math.min(due, MIN_POLL_INTERVAL_MS) };
}

/** Retry delay after the `failures`-th consecutive transient fault: exponential, capped, with jitter. */
export function retryDelay(failures: number, random: () => number = Math.random): number {
  const base = Math.min(15_000, 1_000 * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (0.5 + random() * 0.5));
}

/**
 * How long tasks take upstream (submission to completion), so the poll policy can aim its due
 * polls at the likely end: the mean of the first five observations (so it adapts at once from the
 * 10 s starting guess), then a moving average that follows drift.
 */
export class DurationEstimate {
  #value: number;
  #observed = 0;

  constructor(initialMs = 10_000) {
    this.#value = initialMs;
  }

  get expectedMs(): number {
    return this.#value;
  }

  observe(durationMs: number): void {
    if (!Number.isFinite(durationMs) || durationMs <= 0) return;
    this.#observed += 1;
    const weight = Math.max(0.2, 1 / this.#observed);
    this.#value = Math.round(this.#value * (1 - weight) + Math.min(durationMs, 600_000) * weight);
  }
}
