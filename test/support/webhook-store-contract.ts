import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Task } from '../../src/core/model.js';
import type { TaskStore } from '../../src/core/store.js';
import { deliveriesFor, type WebhookOutcome, type WebhookStore } from '../../src/core/webhooks.js';
import { sampleTask } from './store-contract.js';

/** A fresh, empty pair of stores per test (one database), and how to throw it away. */
export interface WebhookStoreFixture {
  readonly tasks: TaskStore;
  readonly webhooks: WebhookStore;
  dispose(): Promise<void>;
}

const HOOK = { url: 'https://hooks.example/h', events: ['PROCESSING', 'SUCCEEDED'] as const };

function hooked(overrides: Partial<Task> = {}): Task {
  return sampleTask({ webhook: { url: HOOK.url, events: [...HOOK.events] }, ...overrides });
}

/** The change the ledger would commit, with the deliveries it calls for. */
function change(task: Task, patch: Partial<Task>) {
  const next = { ...task, ...patch, version: task.version + 1 };
  return { next, deliveries: deliveriesFor(task, next) };
}

function failed(at: number, nextAttemptAt: number): WebhookOutcome {
  return { attempt: { at, statusCode: 500, error: 'HTTP 500' }, status: 'PENDING', nextAttemptAt };
}

/**
 * What the webhook dispatcher and the ledger rely on from a store, whichever runs: deliveries
 * written with their task change or not at all, leases that keep rounds apart, outcomes recorded
 * by the lease holder only, and secrets that rotate. Run by
 * test/unit/adapters/sqlite/sqlite-webhooks.test.ts and test/e2e/webhook-store-postgres.test.ts.
 */
export function describeWebhookStoreContract(name: string, open: () => Promise<WebhookStoreFixture>): void {
  describe(`WebhookStore contract: ${name}`, () => {
    let fixture: WebhookStoreFixture;
    beforeEach(async () => {
      fixture = await open();
    });
    afterEach(async () => {
      await fixture.dispose();
    });

    it('stores a delivery with the task change that calls for it, and none with a change that lost its race', async () => {
      const { tasks, webhooks } = fixture;
      const task = hooked();
      await tasks.insert(task, deliveriesFor(null, task));
      expect(await webhooks.listForTask(task.id)).toEqual([]);
      const won = change(task, { state: 'PROCESSING' });
      expect(won.deliveries).toHaveLength(1);
      expect(await tasks.update(won.next, won.deliveries)).toBe(true);
      const lost = change(task, { state: 'CANCELLED' });
      expect(await tasks.update(lost.next, deliveriesFor(task, { ...lost.next, state: 'SUCCEEDED' }))).toBe(
        false,
      );
      const stored = await webhooks.listForTask(task.id);
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatchObject({
        id: won.deliveries[0]?.id,
        event: 'PROCESSING',
        status: 'PENDING',
        url: HOOK.url,
      });
      expect(stored[0]?.task).toEqual(won.next);
    });

    it('keeps one delivery per task and event, and removes them with the task', async () => {
      const { tasks, webhooks } = fixture;
      const task = hooked();
      await tasks.insert(task);
      const first = change(task, { state: 'PROCESSING' });
      await tasks.update(first.next, first.deliveries);
      const again = change(first.next, { progress: 50 });
      await tasks.update(again.next, deliveriesFor(task, again.next));
      expect(await webhooks.listForTask(task.id)).toHaveLength(1);
      expect(await tasks.delete(task.id)).toBe(true);
      expect(await webhooks.listForTask(task.id)).toEqual([]);
    });

    it('leases a due row to one owner at a time and records only under that lease', async () => {
      const { tasks, webhooks } = fixture;
      const task = hooked();
      await tasks.insert(task);
      const moved = change(task, { state: 'PROCESSING' });
      await tasks.update(moved.next, moved.deliveries);
      const now = Date.now() + 1_000;
      const [claimed] = await webhooks.claimDue(now, 10, 60_000, 'one', 10);
      expect(claimed?.id).toBe(moved.deliveries[0]?.id);
      expect(await webhooks.claimDue(now, 10, 60_000, 'two', 10)).toEqual([]);
      expect(await webhooks.record(claimed?.id as string, 'two', failed(now, now + 100))).toBe(false);
      expect(await webhooks.record(claimed?.id as string, 'one', failed(now, now + 100))).toBe(true);
      // Recorded: the lease is gone, and the row is due again only at its next try.
      expect(await webhooks.claimDue(now + 50, 10, 60_000, 'two', 10)).toEqual([]);
      const [retried] = await webhooks.claimDue(now + 100, 10, 60_000, 'two', 10);
      expect(retried?.attempts).toEqual([{ at: now, statusCode: 500, error: 'HTTP 500' }]);
      const delivered: WebhookOutcome = {
        attempt: { at: now + 100, statusCode: 200, error: null },
        status: 'DELIVERED',
        nextAttemptAt: null,
      };
      expect(await webhooks.record(retried?.id as string, 'two', delivered)).toBe(true);
      const [done] = await webhooks.listForTask(task.id);
      expect(done).toMatchObject({ status: 'DELIVERED', nextAttemptAt: null });
      expect(done?.attempts.map((a) => a.statusCode)).toEqual([500, 200]);
      expect(await webhooks.claimDue(now + 10_000_000, 10, 60_000, 'three', 10)).toEqual([]);
    });

    it('takes due rows round-robin by tenant, never more than perTenant of one tenant under a live lease (#27)', async () => {
      const { tasks, webhooks } = fixture;
      const due = async (tenantId: string) => {
        const task = hooked({ tenantId });
        await tasks.insert(task);
        const moved = change(task, { state: 'PROCESSING' });
        await tasks.update(moved.next, moved.deliveries);
        return moved.deliveries[0]?.id as string;
      };
      const flood = [];
      for (let i = 0; i < 6; i += 1) flood.push(await due('noisy'));
      const quiet = await due('quiet');
      const now = Date.now() + 1_000;
      const tenants = (claimed: readonly { tenantId: string }[]) => claimed.map((d) => d.tenantId);
      // Rows are claimed round-robin by tenant (the order they come back in is not promised): with
      // room for two, the quiet tenant's one row goes beside the noisy tenant's oldest.
      const round = await webhooks.claimDue(now, 2, 60_000, 'one', 2);
      expect(tenants(round).sort()).toEqual(['noisy', 'quiet']);
      expect(round.map((d) => d.id)).toContain(quiet);
      const first = [...round, ...(await webhooks.claimDue(now, 10, 60_000, 'one', 2))];
      expect(tenants(first).sort()).toEqual(['noisy', 'noisy', 'quiet']);
      // The noisy tenant has 2 in flight: none more of its rows until one ends.
      expect(await webhooks.claimDue(now, 10, 60_000, 'two', 2)).toEqual([]);
      const ended = first.find((d) => d.tenantId === 'noisy')?.id as string;
      expect(await webhooks.record(ended, 'one', failed(now, now + 1_000_000))).toBe(true);
      const next = await webhooks.claimDue(now, 10, 60_000, 'two', 2);
      expect(tenants(next)).toEqual(['noisy']);
      expect(first.map((d) => d.id)).not.toContain(next[0]?.id);
      expect(flood).toContain(next[0]?.id);
      // Leases that ran out no longer count as in flight.
      const later = await webhooks.claimDue(now + 60_001, 10, 60_000, 'three', 2);
      expect(tenants(later).sort()).toEqual(['noisy', 'noisy', 'quiet']);
    });

    it('hands a row leased by an owner that vanished to another once the lease ran out', async () => {
      const { tasks, webhooks } = fixture;
      const task = hooked();
      await tasks.insert(task);
      const moved = change(task, { state: 'PROCESSING' });
      await tasks.update(moved.next, moved.deliveries);
      const now = Date.now() + 1_000;
      expect(await webhooks.claimDue(now, 10, 5_000, 'killed', 10)).toHaveLength(1);
      expect(await webhooks.claimDue(now + 4_999, 10, 5_000, 'other', 10)).toEqual([]);
      expect(await webhooks.claimDue(now + 5_001, 10, 5_000, 'other', 10)).toHaveLength(1);
      expect(await webhooks.record(moved.deliveries[0]?.id as string, 'killed', failed(now, now))).toBe(
        false,
      );
    });

    it('makes a tenant secret once and rotates it, keeping the previous one for the grace period', async () => {
      const { webhooks } = fixture;
      const first = await webhooks.secrets('acme', 'whsec_AAAA');
      expect(first).toEqual({ current: 'whsec_AAAA', previous: null, previousUntil: null });
      expect(await webhooks.secrets('acme', 'whsec_BBBB')).toEqual(first);
      const until = Date.now() + 60_000;
      expect(await webhooks.rotateSecret('acme', 'whsec_CCCC', until)).toEqual({
        current: 'whsec_CCCC',
        previous: 'whsec_AAAA',
        previousUntil: until,
      });
      expect((await webhooks.secrets('acme', 'whsec_DDDD')).current).toBe('whsec_CCCC');
      expect(await webhooks.rotateSecret('fresh', 'whsec_EEEE', until)).toEqual({
        current: 'whsec_EEEE',
        previous: null,
        previousUntil: null,
      });
    });
  });
}
