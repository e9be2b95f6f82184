import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BUDGET_MARGIN_MS, SpacedBudget } from '../../../src/scheduler/budget.js';

/**
 * The budget's promise, checked on a fake clock: a call occupies PicWish's window from its grant
 * until it settled, so whatever the latency, no window can hold more calls than the budget.
 */

interface Call {
  grant: number;
  settle: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Three callers competing for the budget, each call taking `latency(i)` ms. */
async function drive(budget: SpacedBudget, calls: number, latency: (i: number) => number): Promise<Call[]> {
  const done: Call[] = [];
  let next = 0;
  const caller = async () => {
    while (next < calls) {
      const i = next++;
      const slot = await budget.acquire();
      if (!slot) return;
      const grant = Date.now();
      await sleep(latency(i));
      done.push({ grant, settle: Date.now() });
      slot.release();
    }
  };
  const all = Promise.all([caller(), caller(), caller()]);
  await vi.advanceTimersByTimeAsync(600_000);
  await all;
  return done.sort((a, b) => a.grant - b.grant);
}

/** The most calls whose possible arrival times ([grant, settle]) fit in one `windowMs` window. */
function worstWindow(calls: Call[], windowMs: number): number {
  let worst = 0;
  // Adversarial arrivals: each call arrives as late as possible before `end`, but not before its grant.
  for (const anchor of calls) {
    const end = anchor.grant;
    const inWindow = calls.filter((c) => c.grant <= end && Math.min(c.settle, end) > end - windowMs).length;
    worst = Math.max(worst, inWindow);
  }
  return worst;
}

describe('SpacedBudget', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('never lets one second hold more than 2 calls at 2 QPS, whatever the latency of each call', async () => {
    const budget = new SpacedBudget(2);
    const latencies = [5, 400, 30, 900, 0, 250, 60, 1200, 10, 10, 700, 5, 80, 450, 3, 1];
    const calls = await drive(budget, 64, (i) => latencies[i % latencies.length] as number);
    expect(calls).toHaveLength(64);
    expect(worstWindow(calls, 1000)).toBeLessThanOrEqual(2);
  });

  it('keeps close to the budget when calls are fast', async () => {
    const budget = new SpacedBudget(2);
    const calls = await drive(budget, 41, () => 20);
    const span = (calls.at(-1) as Call).grant - (calls[0] as Call).grant;
    // 40 gaps of 500 ms plus the margin, and a little for the window rule.
    expect(span).toBeGreaterThanOrEqual(40 * 500);
    expect(span).toBeLessThanOrEqual(40 * (500 + BUDGET_MARGIN_MS) + 1_000);
  });

  it('spaces calls 2 s apart at a fractional 0.5 QPS', async () => {
    const budget = new SpacedBudget(0.5);
    const calls = await drive(budget, 10, (i) => (i % 2 === 0 ? 10 : 600));
    expect(worstWindow(calls, 2000)).toBeLessThanOrEqual(1);
    for (let i = 1; i < calls.length; i += 1) {
      expect((calls[i] as Call).grant - (calls[i - 1] as Call).grant).toBeGreaterThanOrEqual(2000);
    }
  });

  it('grants nothing during a back-off (429 Retry-After) and resumes after it', async () => {
    const budget = new SpacedBudget(2);
    const first = await budget.acquire();
    first?.release();
    const pausedAt = Date.now();
    budget.backOff(3_000);
    let grantedAt = 0;
    void budget.acquire().then((slot) => {
      grantedAt = Date.now();
      slot?.release();
    });
    await vi.advanceTimersByTimeAsync(2_900);
    expect(grantedAt).toBe(0);
    await vi.advanceTimersByTimeAsync(200);
    expect(grantedAt - pausedAt).toBeGreaterThanOrEqual(3_000);
  });

  it('does not count a slot given back unused, and answers null once aborted', async () => {
    const budget = new SpacedBudget(1);
    const unused = await budget.acquire();
    unused?.release(false);
    const start = Date.now();
    const again = await budget.acquire();
    expect(Date.now() - start).toBe(0);
    again?.release();
    const controller = new AbortController();
    const waiting = budget.acquire(controller.signal);
    controller.abort();
    expect(await waiting).toBeNull();
    budget.close();
    expect(await budget.acquire()).toBeNull();
  });
});
