import { describe, expect, it } from 'vitest';
import { MAX_RETRY_DELAY_MS, nextAttemptAt, RETRY_HORIZON_MS } from '../../../src/webhooks/retry-schedule.js';

/** The back-off of failed webhook tries (src/webhooks/retry-schedule.ts), on a clock the test moves. */

const BASE = 5_000;

/** Every try of a delivery whose receiver never answers 2xx, with `random` as the jitter. */
function schedule(random: () => number): number[] {
  const createdAt = 0;
  const tries = [createdAt];
  for (;;) {
    const next = nextAttemptAt(createdAt, tries.length, tries.at(-1) as number, BASE, random);
    if (next === null) return tries;
    tries.push(next);
  }
}

describe('webhook retry schedule', () => {
  it('doubles the delay from the base, half of it random, capped at an hour', () => {
    expect(nextAttemptAt(0, 1, 0, BASE, () => 0)).toBe(2_500);
    expect(nextAttemptAt(0, 1, 0, BASE, () => 1)).toBe(5_000);
    expect(nextAttemptAt(0, 3, 0, BASE, () => 1)).toBe(20_000);
    expect(nextAttemptAt(0, 30, 0, BASE, () => 1)).toBe(MAX_RETRY_DELAY_MS);
    expect(nextAttemptAt(0, 30, 0, BASE, () => 0)).toBe(MAX_RETRY_DELAY_MS / 2);
  });

  it('keeps trying for 24 hours, the last try at the 24-hour mark, then gives up', () => {
    for (const random of [() => 0, () => 0.5, () => 1, Math.random]) {
      const tries = schedule(random);
      expect(tries.at(-1)).toBe(RETRY_HORIZON_MS);
      expect(tries.every((at, i) => i === 0 || at > (tries[i - 1] as number))).toBe(true);
      // Never more than an hour apart, so a receiver that comes back is tried within the hour.
      expect(Math.max(...tries.slice(1).map((at, i) => at - (tries[i] as number)))).toBeLessThanOrEqual(
        MAX_RETRY_DELAY_MS,
      );
    }
    expect(nextAttemptAt(0, 40, RETRY_HORIZON_MS, BASE)).toBeNull();
  });
});
