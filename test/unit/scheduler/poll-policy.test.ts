import { describe, expect, it } from 'vitest';
import { DurationEstimate, planNextPoll } from '../../../src/scheduler/poll-policy.js';

/** The table in src/tasks/poll-policy.ts, row by row, so the documentation and the code agree. */
describe('poll policy', () => {
  it('aims the due poll at the expected duration and allows an early poll after 1 s', () => {
    expect(planNextPoll(0, 10_000, false)).toEqual({ dueInMs: 10_000, earlyInMs: 1_000 });
    expect(planNextPoll(4_000, 10_000, true)).toEqual({ dueInMs: 6_000, earlyInMs: 1_000 });
    // Never closer than 1 s, even just before the expected end.
    expect(planNextPoll(9_700, 10_000, false)).toEqual({ dueInMs: 1_000, earlyInMs: 1_000 });
  });

  it('polls every second around the expected end (up to 1.5 × expected)', () => {
    expect(planNextPoll(10_000, 10_000, false).dueInMs).toBe(1_000);
    expect(planNextPoll(14_900, 10_000, false).dueInMs).toBe(1_000);
  });

  it('backs off for long-running tasks: elapsed / 6 within 1–5 s, at most 2 s when watched', () => {
    expect(planNextPoll(15_000, 10_000, false).dueInMs).toBe(2_500);
    expect(planNextPoll(60_000, 10_000, false).dueInMs).toBe(5_000);
    expect(planNextPoll(60_000, 10_000, true).dueInMs).toBe(2_000);
    expect(planNextPoll(3_000, 1_000, false).dueInMs).toBe(1_000);
    for (const since of [15_000, 60_000, 600_000]) {
      expect(planNextPoll(since, 10_000, false).earlyInMs).toBe(1_000);
    }
  });

  it('learns the expected duration: the mean of the first five, then a moving average', () => {
    const estimate = new DurationEstimate();
    expect(estimate.expectedMs).toBe(10_000);
    estimate.observe(4_000);
    expect(estimate.expectedMs).toBe(4_000);
    estimate.observe(6_000);
    expect(estimate.expectedMs).toBe(5_000);
    for (let i = 0; i < 3; i += 1) estimate.observe(5_000);
    expect(estimate.expectedMs).toBe(5_000);
    estimate.observe(10_000);
    expect(estimate.expectedMs).toBe(6_000); // weight 0.2 from the sixth on
    estimate.observe(Number.NaN);
    estimate.observe(-1);
    expect(estimate.expectedMs).toBe(6_000);
  });
});
