import { describe, expect, it } from 'vitest';
import { FairQueue } from '../../../src/scheduler/fair-queue.js';
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

  it('due creates with a flow go in the fair queue’s order, and the slot charges their flow (#25)', () => {
    const fair = new FairQueue();
    const arbiter = new SlotArbiter(fair);
    const candidates = ['a1', 'a2', 'a3', 'b1'].map((id, i) => createDue(id, NOW - 100 + i));
    for (const [i, id] of ['a1', 'a2', 'a3'].entries()) {
      fair.add({ id, tenantId: 'a', subject: null, lane: 'BATCH', arrival: i });
    }
    fair.add({ id: 'b1', tenantId: 'b', subject: null, lane: 'INTERACTIVE', arrival: 9 });
    expect(grant(arbiter, candidates, 4)).toEqual(['a1', 'b1', 'a2', 'a3']);
    expect(fair.size).toBe(0);
  });

  it('a due create without a flow goes before the fairly queued ones, earliest due first', () => {
    const fair = new FairQueue();
    const arbiter = new SlotArbiter(fair);
    fair.add({ id: 'queued', tenantId: 'a', subject: null, lane: 'INTERACTIVE', arrival: 0 });
    const candidates = [createDue('queued', NOW - 500), createDue('flowless', NOW - 1)];
    expect(grant(arbiter, candidates, 2)).toEqual(['flowless', 'queued']);
  });
});
