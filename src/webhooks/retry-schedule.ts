/**
 * When a failed delivery is tried again: exponential back-off from `WEBHOOK_RETRY_BASE_MS`
 * (5 s by default: 5 s, 10 s, 20 s … capped at an hour) with jitter, so receivers coming back
 * after an outage are not hit by every gateway at the same instant; for at least 24 hours after
 * the event, with one last try at the 24-hour mark.
 */

/** How long a delivery is retried: at least a day, as issue #15 asks. */
export const RETRY_HORIZON_MS = 24 * 60 * 60 * 1000;
/** The longest wait between two tries. */
export const MAX_RETRY_DELAY_MS = 60 * 60 * 1000;

/**
 * The next try after the `failures`-th failed one (1 for the first), or null when the horizon is
 * reached and the delivery gives up. "Equal jitter": half the delay fixed, half random, so the
 * back-off still grows while tries spread out.
 */
export function nextAttemptAt(
  createdAt: number,
  failures: number,
  now: number,
  baseMs: number,
  random: () => number = Math.random,
): number | null {
  const end = createdAt + RETRY_HORIZON_MS;
  if (now >= end) return null;
  const delay = Math.min(baseMs * 2 ** Math.min(failures - 1, 40), MAX_RETRY_DELAY_MS);
  return Math.min(now + Math.round(delay / 2 + random() * (delay / 2)), end);
}
