import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineTimers } from '../../../src/scheduler/deadline-timers.js';

/** One timer per waiting task with deadlineSeconds (src/scheduler/deadline-timers.ts). */

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('deadline timers', () => {
  it('fire just after the deadline, not before', async () => {
    const timers = new DeadlineTimers();
    const fired: string[] = [];
    timers.arm('a', Date.now() + 1_000, () => fired.push('a'));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(10);
    expect(fired).toEqual(['a']);
  });

  it('arming a task again replaces its earlier timer', async () => {
    const timers = new DeadlineTimers();
    const fired: string[] = [];
    timers.arm('a', Date.now() + 1_000, () => fired.push('first'));
    timers.arm('a', Date.now() + 2_000, () => fired.push('second'));
    await vi.advanceTimersByTimeAsync(3_000);
    expect(fired).toEqual(['second']);
  });

  it('a cancelled timer never fires, nor do any after cancelAll', async () => {
    const timers = new DeadlineTimers();
    const fired: string[] = [];
    timers.arm('a', Date.now() + 1_000, () => fired.push('a'));
    timers.arm('b', Date.now() + 1_000, () => fired.push('b'));
    timers.arm('c', Date.now() + 1_000, () => fired.push('c'));
    timers.cancel('a');
    timers.cancelAll();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(fired).toEqual([]);
  });
});
