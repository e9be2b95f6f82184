import { describe, expect, it } from 'vitest';
import { AbandonedWork, FairGate } from '../../../src/shared/fair-gate.js';

/** A piece of work the test finishes by hand, recording when it started. */
function manual(log: string[], name: string) {
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return {
    work: async () => {
      log.push(name);
      await done;
      return name;
    },
    finish: () => finish(),
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('FairGate', () => {
  it('runs at most `concurrency` items at once', async () => {
    const gate = new FairGate(2);
    const log: string[] = [];
    const items = ['a', 'b', 'c'].map((name) => manual(log, name));
    const runs = items.map((item) => gate.run('t', item.work));
    await settle();
    expect(log).toEqual(['a', 'b']);
    expect([gate.running, gate.waiting]).toEqual([2, 1]);
    items[0]?.finish();
    await settle();
    expect(log).toEqual(['a', 'b', 'c']);
    for (const item of items) item.finish();
    expect(await Promise.all(runs)).toEqual(['a', 'b', 'c']);
  });

  it("gives a lone item of another flow the next slot, ahead of a flood's backlog", async () => {
    const gate = new FairGate(1);
    const log: string[] = [];
    const flood = Array.from({ length: 20 }, (_, i) => manual(log, `noisy-${i}`));
    const floodRuns = flood.map((item) => gate.run('noisy', item.work));
    const lone = manual(log, 'quiet');
    const loneRun = gate.run('quiet', lone.work);
    await settle();
    flood[0]?.finish();
    await settle();
    expect(log).toEqual(['noisy-0', 'quiet']);
    lone.finish();
    await loneRun;
    for (const item of flood) item.finish();
    await Promise.all(floodRuns);
  });

  it('takes turns between waiting flows, one item each', async () => {
    const gate = new FairGate(1);
    const log: string[] = [];
    const blocker = manual(log, 'first');
    const runs: Promise<string>[] = [gate.run('a', blocker.work)];
    for (const name of ['a1', 'a2', 'a3', 'b1', 'b2', 'c1']) {
      runs.push(
        gate.run(name.slice(0, 1), async () => {
          log.push(name);
          return name;
        }),
      );
    }
    blocker.finish();
    await Promise.all(runs);
    // The flow that just ran waits for the others' turns.
    expect(log).toEqual(['first', 'b1', 'c1', 'a1', 'b2', 'a2', 'a3']);
  });

  it('drops waiting work whose requester went away, and never runs it', async () => {
    const gate = new FairGate(1);
    const log: string[] = [];
    const blocker = manual(log, 'blocker');
    const running = gate.run('a', blocker.work);
    const abort = new AbortController();
    const gone = manual(log, 'gone');
    const dropped = gate.run('b', gone.work, abort.signal);
    abort.abort();
    await expect(dropped).rejects.toBeInstanceOf(AbandonedWork);
    expect(gate.waiting).toBe(0);
    blocker.finish();
    await running;
    await settle();
    expect(log).toEqual(['blocker']);
    await expect(gate.run('b', gone.work, abort.signal)).rejects.toBeInstanceOf(AbandonedWork);
  });

  it('frees the slot of work that failed', async () => {
    const gate = new FairGate(1);
    await expect(gate.run('a', async () => Promise.reject(new Error('broken')))).rejects.toThrow('broken');
    expect(await gate.run('a', async () => 'next')).toBe('next');
    expect(gate.running).toBe(0);
  });
});
