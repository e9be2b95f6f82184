import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TaskPriority } from '../../../src/core/model.js';
import { type FairItem, FairQueue, INTERACTIVE_PER_BATCH } from '../../../src/scheduler/fair-queue.js';

/**
 * The fair share of one key's charged slots (src/scheduler/fair-queue.ts), as a pure decision. A
 * fake clock stands for the budget: every tick is one charged slot, and the test decides what
 * arrives between ticks and which items are due.
 */

let made = 0;

function item(
  tenantId: string,
  subject: string | null,
  lane: TaskPriority = 'INTERACTIVE',
  arrival = made,
): FairItem {
  made += 1;
  return { id: `${tenantId}/${subject ?? 'server'}/${lane}/${made}`, tenantId, subject, lane, arrival };
}

function flood(
  queue: FairQueue,
  n: number,
  tenantId: string,
  subject: string | null,
  lane: TaskPriority,
): FairItem[] {
  const items = Array.from({ length: n }, () => item(tenantId, subject, lane));
  for (const each of items) queue.add(each);
  return items;
}

/** Sends on `slots` charged slots in a row; answers what went, in order. */
function tick(queue: FairQueue, slots: number, eligible?: (id: string) => boolean): FairItem[] {
  const sent: FairItem[] = [];
  for (let i = 0; i < slots; i += 1) {
    const next = queue.pick(eligible);
    if (!next) break;
    queue.sent(next.id);
    sent.push(next);
  }
  return sent;
}

describe('fair queue of charged slots', () => {
  it("one task of another tenant is sent within 2 slots of arriving behind a tenant's flood", () => {
    const queue = new FairQueue();
    flood(queue, 200, 'a', null, 'BATCH');
    tick(queue, 37);
    const lone = item('b', null);
    queue.add(lone);
    expect(queue.position(lone.id)).toBeLessThanOrEqual(2);
    expect(tick(queue, 2).map((each) => each.id)).toContain(lone.id);
  });

  it("one end user's task is sent within 2 slots of arriving behind another end user's flood of the same tenant", () => {
    const queue = new FairQueue();
    flood(queue, 100, 'a', 'alice', 'INTERACTIVE');
    tick(queue, 10);
    const bob = item('a', 'bob');
    queue.add(bob);
    expect(tick(queue, 2).map((each) => each.id)).toContain(bob.id);
  });

  it('server-made tasks are one more flow of their tenant', () => {
    const queue = new FairQueue();
    flood(queue, 50, 'a', 'alice', 'INTERACTIVE');
    tick(queue, 5);
    const server = item('a', null, 'BATCH');
    queue.add(server);
    expect(tick(queue, 2).map((each) => each.id)).toContain(server.id);
  });

  it('weights 3:1 give 3:1 shares while both tenants are backlogged', () => {
    const weights: Record<string, number> = { heavy: 3, light: 1 };
    const queue = new FairQueue((tenant) => weights[tenant] ?? 1);
    flood(queue, 500, 'heavy', null, 'BATCH');
    flood(queue, 500, 'light', null, 'BATCH');
    const sent = tick(queue, 400);
    const heavy = sent.filter((each) => each.tenantId === 'heavy').length;
    expect(heavy).toBe(300);
    // …and in every window of 4 slots, not only on average.
    for (let i = 0; i + 4 <= sent.length; i += 4) {
      expect(sent.slice(i, i + 4).filter((each) => each.tenantId === 'light')).toHaveLength(1);
    }
  });

  it('end users of one tenant share its part equally, whatever their backlogs', () => {
    const queue = new FairQueue();
    flood(queue, 300, 't', 'alice', 'INTERACTIVE');
    flood(queue, 30, 't', 'bob', 'INTERACTIVE');
    flood(queue, 300, 'u', null, 'BATCH');
    const sent = tick(queue, 60);
    expect(sent.filter((each) => each.tenantId === 'u')).toHaveLength(30);
    expect(sent.filter((each) => each.subject === 'alice')).toHaveLength(15);
    expect(sent.filter((each) => each.subject === 'bob')).toHaveLength(15);
  });

  it("an INTERACTIVE task overtakes its own flow's BATCH backlog", () => {
    const queue = new FairQueue();
    flood(queue, 40, 'a', null, 'BATCH');
    tick(queue, 3);
    const urgent = item('a', null, 'INTERACTIVE');
    queue.add(urgent);
    expect(queue.position(urgent.id)).toBe(1);
    expect(tick(queue, 1)[0]?.id).toBe(urgent.id);
  });

  it('BATCH still advances under a steady INTERACTIVE stream, by its guaranteed share', () => {
    const queue = new FairQueue();
    const batch = flood(queue, 30, 'a', null, 'BATCH');
    let batchSent = 0;
    for (let slot = 0; slot < 100; slot += 1) {
      queue.add(item('a', null, 'INTERACTIVE'));
      const [sent] = tick(queue, 1);
      if (sent?.lane === 'BATCH') batchSent += 1;
    }
    expect(batchSent).toBe(100 / (INTERACTIVE_PER_BATCH + 1));
    // In arrival order within the lane.
    expect(batch.slice(0, batchSent).every((each) => !queue.has(each.id))).toBe(true);
  });

  it('a lone flow gets every slot (work-conserving), in arrival order', () => {
    const queue = new FairQueue();
    const items = flood(queue, 20, 'a', 'alice', 'BATCH');
    expect(tick(queue, 20).map((each) => each.id)).toEqual(items.map((each) => each.id));
    expect(queue.pick()).toBeNull();
  });

  it('only due items are picked; a flow whose items are not due yet waits without holding anyone up', () => {
    const queue = new FairQueue();
    const backingOff = item('a', null);
    queue.add(backingOff);
    const others = flood(queue, 3, 'b', null, 'INTERACTIVE');
    const due = (id: string) => id !== backingOff.id;
    expect(tick(queue, 3, due).map((each) => each.id)).toEqual(others.map((each) => each.id));
    expect(queue.pick(due)).toBeNull();
    expect(queue.pick()?.id).toBe(backingOff.id);
  });

  it('an idle tenant banks no credit: back after a pause it shares, it does not take a run of slots', () => {
    const queue = new FairQueue();
    queue.add(item('quiet', null));
    tick(queue, 1);
    flood(queue, 100, 'busy', null, 'BATCH');
    tick(queue, 50);
    flood(queue, 10, 'quiet', null, 'BATCH');
    const sent = tick(queue, 10);
    expect(sent.filter((each) => each.tenantId === 'quiet')).toHaveLength(5);
  });

  it('order() is exactly what successive picks send, and position() is the place in it', () => {
    const arbitraryItem = fc.record({
      tenantId: fc.constantFrom('a', 'b', 'c'),
      subject: fc.constantFrom(null, 'x', 'y'),
      lane: fc.constantFrom<TaskPriority>('INTERACTIVE', 'BATCH'),
      arrival: fc.integer({ min: 0, max: 50 }),
    });
    fc.assert(
      fc.property(
        fc.array(arbitraryItem, { maxLength: 40 }),
        fc.array(arbitraryItem, { maxLength: 40 }),
        fc.integer({ min: 0, max: 30 }),
        (before, after, sentBefore) => {
          const queue = new FairQueue((tenant) => (tenant === 'a' ? 2 : 1));
          for (const [i, each] of before.entries()) queue.add({ ...each, id: `p${i}` });
          tick(queue, sentBefore);
          for (const [i, each] of after.entries()) queue.add({ ...each, id: `q${i}` });
          const order = queue.order();
          for (const [i, id] of order.entries()) expect(queue.position(id)).toBe(i + 1);
          expect(tick(queue, order.length + 1).map((each) => each.id)).toEqual(order);
        },
      ),
    );
  });

  it('no tenant starves: one that starts waiting is sent before any other tenant is sent twice', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ tenant: fc.integer({ min: 0, max: 5 }), n: fc.integer({ min: 1, max: 30 }) }), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 4 }),
        (floods, warmup, newcomerWeight) => {
          const queue = new FairQueue((tenant) =>
            tenant === 'new' ? newcomerWeight : 1 + (tenant.length % 3),
          );
          for (const { tenant, n } of floods) flood(queue, n, `t${tenant}`, null, 'BATCH');
          tick(queue, warmup);
          const waitingTenants = new Set([...queue.items()].map((each) => each.tenantId));
          const newcomer = item('new', null, 'BATCH');
          queue.add(newcomer);
          const sent = tick(queue, waitingTenants.size + 1).map((each) => each.id);
          expect(sent).toContain(newcomer.id);
        },
      ),
    );
  });
});
