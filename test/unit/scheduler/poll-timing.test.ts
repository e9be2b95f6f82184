import { describe, expect, it } from 'vitest';
import {
  expiresAt,
  needsBudget,
  nextStep,
  RESULT_FETCH_WINDOW_MS,
} from '../../../src/scheduler/next-step.js';
import { PollTiming } from '../../../src/scheduler/poll-timing.js';
import { queuedTask, step } from '../../support/scheduler-parts.js';

/**
 * What a task needs next (src/scheduler/next-step.ts) and when its polls are planned
 * (src/scheduler/poll-timing.ts); the table itself is pinned in poll-policy.test.ts.
 */

describe('the next step of a task', () => {
  it('is a create before submission, a poll after it, and a download once results are pending', () => {
    const queued = queuedTask('a');
    const running = queuedTask('a', { upstreamTaskId: 'up-1' });
    const finished = queuedTask('a', {
      upstreamTaskId: 'up-1',
      pendingImages: [{ kind: 'url', url: 'http://upstream.invalid/1.png' }],
      completedAt: 1_000,
    });
    expect(nextStep(queued, { dueAt: 0 }).kind).toBe('submit');
    expect(nextStep(running, { dueAt: 0 }).kind).toBe('poll');
    expect(nextStep(finished, { dueAt: 0 }).kind).toBe('fetch');
    expect(expiresAt(finished)).toBe(1_000 + RESULT_FETCH_WINDOW_MS);
  });

  it('a create interrupted by a crash needs no budget slot: it is failed, never sent', () => {
    const interrupted = nextStep(queuedTask('a', { submitInFlight: true }), { dueAt: 0 });
    expect(needsBudget(interrupted, Date.now())).toBe(false);
  });

  it('a waiting task runs out of time at its start-by time when it has one', () => {
    const task = queuedTask('a', { startBy: 5_000, finishBy: 9_000 });
    expect(expiresAt(task)).toBe(5_000);
    expect(needsBudget(nextStep(task, { dueAt: 0 }), 5_000)).toBe(true);
    expect(needsBudget(nextStep(task, { dueAt: 0 }), 5_001)).toBe(false);
  });
});

describe('poll timing', () => {
  it('aims the first poll of a new task at the expected duration (10 s before any finished)', () => {
    const timing = new PollTiming(
      () => 'nobody',
      () => [],
    );
    const now = 100_000;
    const task = queuedTask('a', { upstreamTaskId: 'up-1', submittedAt: now });
    expect(timing.next(task, now)).toMatchObject({ kind: 'poll', plannedPoll: true, dueAt: now + 10_000 });
  });

  it('a task that finished sooner than expected brings planned polls forward, never later', () => {
    const planned = [step({ kind: 'poll', dueAt: 110_000, earlyAt: 101_000, submittedAt: 100_000 })];
    const timing = new PollTiming(
      () => 'nobody',
      () => planned,
    );
    timing.finished(queuedTask('done', { submittedAt: 50_000 }), 52_000);
    expect(planned[0]?.dueAt).toBeLessThan(110_000);
    expect(planned[0]?.dueAt).toBeGreaterThanOrEqual(101_000);
  });
});
