import { describe, expect, it } from 'vitest';
import {
  type Candidate,
  nextWakeAt,
  POLLS_PER_CREATE,
  SlotArbiter,
} from '../../../src/scheduler/slot-arbitration.js';
import { step } from '../../support/scheduler-parts.js';

/** Who gets the next budget slot (src/scheduler/slot-arbitration.ts), as a pure decision. */

const NOW = 1_000_000;

function createDue(id: string, dueAt = NOW - 1): Candidate {
  return { id, step: step({ kind: 'submit', dueAt }) };
}

function pollDue(id: string, dueAt = NOW - 1): Candidate {
  return { id, step: step({ kind: 'poll', dueAt }) };
}

/** Grants `slots` slots in a row, taking each chosen step out as a run loop would. */
function grant(arbiter: SlotArbiter, candidates: Candidate[], slots: number): string[] {
  const left = [...candidates];
  const order: string[] = [];
  for (let i = 0; i < slots; i += 1) {
    const chosen = arbiter.pick(left, NOW);
    if (!chosen) break;
    arbiter.granted(chosen);
    order.push(chosen.id);
    left.splice(left.indexOf(chosen), 1);
  }
  return order;
}

describe('slot arbitration', () => {
  it('with due creates and polls both waiting, two polls go before each create', () => {
    expect(POLLS_PER_CREATE).toBe(2);
    const arbiter = new SlotArbiter();
    const candidates = [
      createDue('c1', NOW - 30),
      createDue('c2', NOW - 20),
      pollDue('p1', NOW - 50),
      pollDue('p2', NOW - 40),
      pollDue('p3', NOW - 10),
      pollDue('p4', NOW - 5),
    ];
    // The first slot goes to a create: nothing has been given to polls yet "since the last create".
    expect(grant(arbiter, candidates, 6)).toEqual(['c1', 'p1', 'p2', 'c2', 'p3', 'p4']);
  });

  it('due creates go in arrival order, earliest due first', () => {
    const arbiter = new SlotArbiter();
    const candidates = [
      createDue('late', NOW - 1),
      createDue('early', NOW - 100),
      createDue('mid', NOW - 50),
    ];
    expect(grant(arbiter, candidates, 3)).toEqual(['early', 'mid', 'late']);
  });

  it('a crowd of due polls does not starve creates: every third slot goes to a create', () => {
    const arbiter = new SlotArbiter();
    const polls = Array.from({ length: 30 }, (_, i) => pollDue(`p${i}`, NOW - 1000 + i));
    const creates = Array.from({ length: 10 }, (_, i) => createDue(`c${i}`, NOW - 500 + i));
    const order = grant(arbiter, [...polls, ...creates], 30);
    expect(order.filter((id) => id.startsWith('c'))).toHaveLength(10);
  });

  it('a step allowed to run early gets a slot only when nothing is due', () => {
    const arbiter = new SlotArbiter();
    const early = { id: 'early', step: step({ kind: 'poll', dueAt: NOW + 5_000, earlyAt: NOW - 10 }) };
    expect(arbiter.pick([early, pollDue('due')], NOW)?.id).toBe('due');
    expect(arbiter.pick([early], NOW)?.id).toBe('early');
  });

  it('nothing is picked before its due or early time', () => {
    const arbiter = new SlotArbiter();
    const later = { id: 'later', step: step({ kind: 'poll', dueAt: NOW + 5_000, earlyAt: NOW + 1_000 }) };
    expect(arbiter.pick([later], NOW)).toBeNull();
  });

  it('the loop wakes at the first due or early time, and at most a minute from now', () => {
    const steps = [step({ dueAt: NOW + 5_000, earlyAt: NOW + 1_000 }), step({ dueAt: NOW + 3_000 })];
    expect(nextWakeAt(steps, NOW)).toBe(NOW + 1_000);
    expect(nextWakeAt([], NOW)).toBe(NOW + 60_000);
  });
});
