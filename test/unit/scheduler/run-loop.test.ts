import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GatewayMetrics } from '../../../src/observability/metrics.js';
import type { BudgetSlot, UpstreamBudget } from '../../../src/scheduler/budget.js';
import { RunLoop, type RunLoopDeps } from '../../../src/scheduler/run-loop.js';
import { SchedulerMetrics } from '../../../src/scheduler/scheduler-metrics.js';
import { again, ENDED, type StepOutcome } from '../../../src/scheduler/step-outcome.js';
import { PRICES, silentLogger, step } from '../../support/scheduler-parts.js';

/**
 * The run loop (src/scheduler/run-loop.ts) with a budget the test grants by hand, a fake step
 * and vitest's fake clock: which step runs, when, and whether it held a slot.
 */

/** A budget whose slots the test hands out one at a time. */
function handBudget() {
  const pending: Array<(slot: BudgetSlot | null) => void> = [];
  const releases: boolean[] = [];
  const budget: UpstreamBudget = {
    qps: 2,
    granted: 0,
    acquire: (signal?: AbortSignal) =>
      new Promise((resolve) => {
        pending.push(resolve);
        signal?.addEventListener('abort', () => resolve(null), { once: true });
      }),
    backOff: () => {},
    close: () => {},
  };
  return {
    budget,
    releases,
    /** Requests for a slot not answered yet. */
    get waiting() {
      return pending.length;
    },
    grant() {
      pending.shift()?.({ release: (used = true) => void releases.push(used) });
    },
  };
}

interface Harness {
  loop: RunLoop;
  taken: string[];
  ended: string[];
  lost: string[];
}

/** A loop whose fake step answers `take`'s outcome (default: the task ended), making no call. */
function harness(
  budget: UpstreamBudget,
  overrides: Partial<RunLoopDeps> & { take?: (id: string, slot?: BudgetSlot) => Promise<StepOutcome> } = {},
): Harness {
  const taken: string[] = [];
  const ended: string[] = [];
  const lost: string[] = [];
  const take = overrides.take ?? (async () => ENDED);
  const loop = new RunLoop({
    budget,
    metrics: new SchedulerMetrics(new GatewayMetrics(), PRICES, 'k1'),
    logger: silentLogger,
    maxInFlight: 16,
    holds: () => true,
    ended: (id) => void ended.push(id),
    lost: (id) => void lost.push(id),
    ...overrides,
    steps: {
      take: (id, slot) => {
        taken.push(id);
        return take(id, slot);
      },
      forget: () => {},
    },
  });
  return { loop, taken, ended, lost };
}

let running: RunLoop | null = null;

/** A hand budget and a started loop on it, stopped after the test. */
function started(overrides: Parameters<typeof harness>[1] = {}) {
  const hand = handBudget();
  const h = harness(hand.budget, overrides);
  running = h.loop;
  h.loop.start();
  return { hand, ...h };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(async () => {
  const stopping = running?.stop();
  await vi.runAllTimersAsync();
  await stopping;
  running = null;
  vi.useRealTimers();
});

describe('the run loop', () => {
  it('takes a step that calls PicWish only once the budget granted it a slot', async () => {
    const { hand, ...h } = started();
    h.loop.schedule('a', step({ kind: 'poll', dueAt: Date.now() }));
    await vi.advanceTimersByTimeAsync(10);
    expect(h.taken).toEqual([]);
    expect(hand.waiting).toBe(1);
    hand.grant();
    await vi.advanceTimersByTimeAsync(10);
    expect(h.taken).toEqual(['a']);
    expect(h.ended).toEqual(['a']);
    // The fake step made no call of its own, so its slot went back unused.
    expect(hand.releases).toEqual([false]);
  });

  it('hands the step the slot it runs on, for the step to release as soon as its call settled', async () => {
    const { hand, ...h } = started({
      take: async (_id, slot) => {
        slot?.release();
        return ENDED;
      },
    });
    h.loop.schedule('a', step({ kind: 'poll', dueAt: Date.now() }));
    await vi.advanceTimersByTimeAsync(10);
    hand.grant();
    await vi.advanceTimersByTimeAsync(10);
    // The loop's own release afterwards (unused) is a no-op on a real slot, which releases once.
    expect(hand.releases).toEqual([true, false]);
  });

  it('a download step runs at once without asking the budget', async () => {
    const { hand, ...h } = started();
    h.loop.schedule('a', step({ kind: 'fetch', dueAt: Date.now() }));
    await vi.advanceTimersByTimeAsync(10);
    expect(h.taken).toEqual(['a']);
    expect(hand.waiting).toBe(0);
  });

  it('a step whose deadline passed runs without a slot: it fails the task without a call', async () => {
    const { hand, ...h } = started();
    h.loop.schedule('a', step({ kind: 'submit', dueAt: Date.now(), callsUntil: Date.now() - 1 }));
    await vi.advanceTimersByTimeAsync(10);
    expect(h.taken).toEqual(['a']);
    expect(hand.waiting).toBe(0);
  });

  it('a granted slot goes to the most urgent step at grant time, even one that arrived while waiting', async () => {
    const { hand, ...h } = started();
    h.loop.schedule('poll', step({ kind: 'poll', dueAt: Date.now() }));
    await vi.advanceTimersByTimeAsync(10);
    h.loop.schedule('create', step({ kind: 'submit', dueAt: Date.now() - 100 }));
    hand.grant();
    await vi.advanceTimersByTimeAsync(10);
    expect(h.taken[0]).toBe('create');
  });

  it('charged steps with a flow get slots in the fair order (#25), and their wait is measured by tenant and lane', async () => {
    const gateway = new GatewayMetrics(['a', 'b']);
    const { hand, ...h } = started({ metrics: new SchedulerMetrics(gateway, PRICES, 'k1') });
    const now = Date.now();
    for (const i of [1, 2, 3, 4]) {
      const flow = { tenantId: 'a', subject: null, lane: 'BATCH', arrival: now + i } as const;
      h.loop.schedule(`a${i}`, step({ kind: 'submit', dueAt: now }), flow);
    }
    const lone = { tenantId: 'b', subject: 'someone', lane: 'INTERACTIVE', arrival: now + 9 } as const;
    h.loop.schedule('b1', step({ kind: 'submit', dueAt: now }), lone);
    for (let slot = 0; slot < 3; slot += 1) {
      await vi.advanceTimersByTimeAsync(500);
      hand.grant();
    }
    await vi.advanceTimersByTimeAsync(10);
    expect(h.taken).toEqual(['a1', 'b1', 'a2']);
    const waits = (await gateway.registry.getMetricsAsJSON()).find(
      (metric) => metric.name === 'gateway_charged_step_wait_seconds',
    );
    const count = (tenant: string, lane: string) =>
      (
        (waits?.values ?? []) as { metricName?: string; labels: Record<string, unknown>; value: number }[]
      ).find((v) => v.metricName?.endsWith('_count') && v.labels.tenant === tenant && v.labels.lane === lane)
        ?.value;
    expect(count('a', 'BATCH')).toBe(2);
    expect(count('b', 'INTERACTIVE')).toBe(1);
  });

  it('never runs more steps at once than the in-flight cap', async () => {
    const hung: Array<() => void> = [];
    let hanging = true;
    const h = started({
      maxInFlight: 2,
      take: () =>
        hanging ? new Promise((resolve) => hung.push(() => resolve(ENDED))) : Promise.resolve(ENDED),
    });
    for (const id of ['a', 'b', 'c', 'd']) h.loop.schedule(id, step({ kind: 'fetch', dueAt: Date.now() }));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(h.taken).toEqual(['a', 'b']);
    hung.shift()?.();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(h.taken).toEqual(['a', 'b', 'c']);
    hanging = false;
    for (const release of hung.splice(0)) release();
  });

  it('a task whose lease lapsed is dropped instead of stepped', async () => {
    const { hand, ...h } = started({ holds: () => false });
    h.loop.schedule('a', step({ kind: 'poll', dueAt: Date.now() }));
    await vi.advanceTimersByTimeAsync(10);
    expect(h.taken).toEqual([]);
    expect(h.lost).toEqual(['a']);
    expect(hand.waiting).toBe(0);
  });

  it('the next step is scheduled from the outcome the step answered, and an ended task is let go', async () => {
    let calls = 0;
    const h = started({
      take: async () => (++calls === 1 ? again(step({ kind: 'fetch', dueAt: Date.now() + 2_000 })) : ENDED),
    });
    h.loop.schedule('a', step({ kind: 'fetch', dueAt: Date.now() }));
    await vi.advanceTimersByTimeAsync(1_900);
    expect(h.taken).toEqual(['a']);
    await vi.advanceTimersByTimeAsync(200);
    expect(h.taken).toEqual(['a', 'a']);
    expect(h.ended).toEqual(['a']);
  });

  it('a step that throws is tried again five seconds later', async () => {
    let calls = 0;
    const h = started({
      take: async () => {
        calls += 1;
        if (calls === 1) throw new Error('store unreachable');
        return ENDED;
      },
    });
    h.loop.schedule('a', step({ kind: 'fetch', dueAt: Date.now() }));
    await vi.advanceTimersByTimeAsync(4_900);
    expect(h.taken).toEqual(['a']);
    await vi.advanceTimersByTimeAsync(200);
    expect(h.taken).toEqual(['a', 'a']);
  });

  it('a create whose deadline timer fired runs out of turn, without a slot', async () => {
    const { hand, ...h } = started();
    h.loop.schedule('a', step({ kind: 'submit', dueAt: Date.now() + 60_000 }));
    h.loop.runExpiredCreate('a');
    await vi.advanceTimersByTimeAsync(10);
    expect(h.taken).toEqual(['a']);
    expect(hand.waiting).toBe(0);
  });

  it('stop waits for the steps in flight, so nothing is left half-recorded', async () => {
    let finish: () => void = () => {};
    const h = harness(handBudget().budget, {
      take: () =>
        new Promise((resolve) => {
          finish = () => resolve(ENDED);
        }),
    });
    h.loop.start();
    h.loop.schedule('a', step({ kind: 'fetch', dueAt: Date.now() }));
    await vi.advanceTimersByTimeAsync(10);
    let stopped = false;
    const stopping = h.loop.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(10);
    expect(stopped).toBe(false);
    finish();
    await stopping;
    expect(stopped).toBe(true);
  });
});
