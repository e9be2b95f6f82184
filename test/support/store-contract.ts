import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { creditDay } from '../../src/core/credits.js';
import { newQueuedTask, type Task, type TaskState } from '../../src/core/model.js';
import type { TaskStore } from '../../src/core/store.js';

/** A fresh, empty store per test, and how to throw it away. */
export interface StoreFixture {
  readonly store: TaskStore;
  dispose(): Promise<void>;
}

let clock = 1_700_000_000_000;

/** A plausible task; every call is a little later than the previous one. */
export function sampleTask(overrides: Partial<Task> = {}): Task {
  clock += 1_000;
  return {
    ...newQueuedTask({
      id: randomUUID(),
      tenantId: 'acme',
      source: { kind: 'url', url: 'https://example.com/a.png' },
      prompt: 'a beach',
      sceneType: null,
      negativePrompt: null,
      batchSize: 2,
      createdAt: clock,
      idempotencyKey: null,
      inputHash: 'hash',
      startBy: null,
      finishBy: clock + 300_000,
      picwishKeyId: null,
    }),
    ...overrides,
  };
}

function next(task: Task, patch: Partial<Task>): Task {
  return { ...task, ...patch, version: task.version + 1 };
}

/**
 * The TaskStore contract: what the services rely on, whichever store runs. Run by
 * test/unit/adapters/sqlite/sqlite-store.test.ts and test/e2e/store-postgres.test.ts.
 */
export function describeTaskStoreContract(name: string, open: () => Promise<StoreFixture>): void {
  describe(`TaskStore contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: TaskStore;
    beforeEach(async () => {
      fixture = await open();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.dispose();
    });

    it('stores and reads a task back as it was, and answers null for an unknown id', async () => {
      const task = sampleTask({
        prompt: 'emoji 🌅 and "quotes"',
        pendingImages: [{ kind: 'base64', data: 'AAAA' }],
      });
      await store.insert(task);
      expect(await store.get(task.id)).toEqual(task);
      expect(await store.get(randomUUID())).toBeNull();
      expect(await store.ping()).toBe(true);
    });

    it('refuses a second insert of the same id', async () => {
      const task = sampleTask();
      await store.insert(task);
      await expect(store.insert(task)).rejects.toThrow();
    });

    it('updates only on the expected version (compare-and-set)', async () => {
      const task = sampleTask();
      await store.insert(task);
      const v2 = next(task, { state: 'PROCESSING', progress: 10 });
      expect(await store.update(v2)).toBe(true);
      // A writer that read version 1 lost the race.
      expect(await store.update(next(task, { progress: 50 }))).toBe(false);
      // Skipping a version is refused too.
      expect(await store.update({ ...v2, version: 4 })).toBe(false);
      expect(await store.get(task.id)).toEqual(v2);
      expect(await store.update(next(sampleTask(), {}))).toBe(false);
    });

    it('lets exactly one of many concurrent writers of one version win', async () => {
      const task = sampleTask();
      await store.insert(task);
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.update(next(task, { progress: i + 1 }))),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await store.get(task.id))?.version).toBe(2);
    });

    it('lists unfinished tasks oldest first and drops them once terminal', async () => {
      const a = sampleTask();
      const b = sampleTask({ tenantId: 'other' });
      const c = sampleTask({ state: 'SUCCEEDED', progress: 100 });
      for (const task of [a, b, c]) await store.insert(task);
      expect((await store.listUnfinished()).map((t) => t.id)).toEqual([a.id, b.id]);
      expect(await store.listUnfinishedIds()).toEqual([a.id, b.id]);
      await store.update(next(a, { state: 'PROCESSING' }));
      expect((await store.listUnfinished()).map((t) => t.id)).toEqual([a.id, b.id]);
      await store.update(next(b, { state: 'CANCELLED' }));
      expect((await store.listUnfinished()).map((t) => t.id)).toEqual([a.id]);
      expect(await store.listUnfinishedIds()).toEqual([a.id]);
    });

    it('counts a tenant’s unfinished tasks', async () => {
      const a = sampleTask();
      const b = sampleTask();
      await store.insert(a);
      await store.insert(b);
      await store.insert(sampleTask({ tenantId: 'other' }));
      await store.insert(sampleTask({ state: 'FAILED' }));
      expect(await store.countActive({ tenantId: 'acme', subject: null })).toBe(2);
      await store.update(next(a, { state: 'SUCCEEDED' }));
      expect(await store.countActive({ tenantId: 'acme', subject: null })).toBe(1);
      await store.delete(b.id);
      expect(await store.countActive({ tenantId: 'acme', subject: null })).toBe(0);
      expect(await store.countActive({ tenantId: 'nobody', subject: null })).toBe(0);
    });

    it('counts all of a tenant’s tasks, or those in one state, whatever their state changes to', async () => {
      const tasks = Array.from({ length: 5 }, (_, i) =>
        sampleTask({ state: i < 2 ? 'SUCCEEDED' : 'QUEUED' }),
      );
      for (const task of tasks) await store.insert(task);
      await store.insert(sampleTask({ tenantId: 'other' }));
      expect(await store.countForTenant({ tenantId: 'acme', subject: null }, null)).toBe(5);
      expect(await store.countForTenant({ tenantId: 'acme', subject: null }, 'SUCCEEDED')).toBe(2);
      expect(await store.countForTenant({ tenantId: 'acme', subject: null }, 'QUEUED')).toBe(3);
      expect(await store.countForTenant({ tenantId: 'acme', subject: null }, 'FAILED')).toBe(0);
      await store.update(next(tasks[4] as Task, { state: 'FAILED' }));
      await store.delete((tasks[0] as Task).id);
      expect(await store.countForTenant({ tenantId: 'acme', subject: null }, null)).toBe(4);
      expect(await store.countForTenant({ tenantId: 'acme', subject: null }, 'QUEUED')).toBe(2);
      expect(await store.countForTenant({ tenantId: 'acme', subject: null }, 'FAILED')).toBe(1);
      expect(await store.countForTenant({ tenantId: 'other', subject: null }, null)).toBe(1);
      expect(await store.countForTenant({ tenantId: 'nobody', subject: null }, null)).toBe(0);
    });

    it('sums up a tenant’s tasks created in [from, to): counts by state now, images of the SUCCEEDED ones, cutouts stored', async () => {
      const image = (n: number) => ({
        key: `tasks/x/${n}.png`,
        width: 8,
        height: 8,
        contentType: 'image/png',
        bytes: 9,
      });
      const before = sampleTask({ state: 'SUCCEEDED', images: [image(0)] });
      const two = sampleTask({ state: 'SUCCEEDED', images: [image(1), image(2)] });
      // A NUL escape in the document must not keep its images from being counted.
      const one = sampleTask({
        state: 'SUCCEEDED',
        images: [image(3)],
        batchSize: 1,
        prompt: 'nul \u0000 here',
      });
      const failed = sampleTask({ state: 'FAILED' });
      const queued = sampleTask();
      // Its cutout came back (and was charged) before it was cancelled.
      const cancelled = sampleTask({ state: 'CANCELLED', cutout: { status: 'stored', image: image(8) } });
      const after = sampleTask({ state: 'SUCCEEDED', images: [image(4)] });
      const foreign = sampleTask({
        tenantId: 'other',
        state: 'SUCCEEDED',
        images: [image(5)],
        createdAt: two.createdAt,
      });
      for (const task of [before, two, one, failed, queued, cancelled, after, foreign])
        await store.insert(task);

      const usage = await store.usageForTenant(
        { tenantId: 'acme', subject: null },
        two.createdAt,
        after.createdAt,
      );
      expect(usage).toEqual({
        byState: { QUEUED: 1, PROCESSING: 0, SUCCEEDED: 2, FAILED: 1, CANCELLED: 1 },
        imagesGenerated: 3,
        cutouts: 1,
      });
      // States are counted as they are now; a task that succeeds later brings its images.
      await store.update(
        next(queued, {
          state: 'SUCCEEDED',
          images: [image(6), image(7)],
          cutout: { status: 'stored', image: image(9) },
        }),
      );
      expect(
        await store.usageForTenant({ tenantId: 'acme', subject: null }, two.createdAt, after.createdAt),
      ).toMatchObject({
        imagesGenerated: 5,
        cutouts: 2,
      });
      expect(
        await store.usageForTenant(
          { tenantId: 'other', subject: null },
          before.createdAt,
          after.createdAt + 1,
        ),
      ).toEqual({
        byState: { QUEUED: 0, PROCESSING: 0, SUCCEEDED: 1, FAILED: 0, CANCELLED: 0 },
        imagesGenerated: 1,
        cutouts: 0,
      });
      expect(
        (await store.usageForTenant({ tenantId: 'nobody', subject: null }, 0, Number.MAX_SAFE_INTEGER))
          .imagesGenerated,
      ).toBe(0);
    });

    it('pages a tenant’s tasks newest first, with a cursor and a state filter', async () => {
      const tasks: Task[] = [];
      for (let i = 0; i < 7; i += 1) {
        const state: TaskState = i % 2 === 0 ? 'SUCCEEDED' : 'QUEUED';
        tasks.push(sampleTask({ state }));
      }
      for (const task of tasks) await store.insert(task);
      await store.insert(sampleTask({ tenantId: 'other' }));
      const newestFirst = [...tasks].reverse().map((t) => t.id);

      const first = await store.listForTenant('acme', { first: 3 });
      expect(first.tasks.map((t) => t.id)).toEqual(newestFirst.slice(0, 3));
      expect(first.hasNextPage).toBe(true);
      const second = await store.listForTenant('acme', { first: 3, after: first.tasks[2]?.id });
      expect(second.tasks.map((t) => t.id)).toEqual(newestFirst.slice(3, 6));
      expect(second.hasNextPage).toBe(true);
      const last = await store.listForTenant('acme', { first: 3, after: second.tasks[2]?.id });
      expect(last.tasks.map((t) => t.id)).toEqual(newestFirst.slice(6));
      expect(last.hasNextPage).toBe(false);

      const succeeded = await store.listForTenant('acme', { first: 2, state: 'SUCCEEDED' });
      const succeededIds = [...tasks]
        .reverse()
        .filter((t) => t.state === 'SUCCEEDED')
        .map((t) => t.id);
      expect(succeeded.tasks.map((t) => t.id)).toEqual(succeededIds.slice(0, 2));
      expect(succeeded.hasNextPage).toBe(true);
      const rest = await store.listForTenant('acme', {
        first: 5,
        state: 'SUCCEEDED',
        after: succeeded.tasks[1]?.id,
      });
      expect(rest.tasks.map((t) => t.id)).toEqual(succeededIds.slice(2));
      expect(rest.hasNextPage).toBe(false);

      // A cursor of another tenant's task (or an unknown one) gives nothing.
      const foreign = await store.listForTenant('other', { first: 5, after: tasks[0]?.id });
      expect(foreign).toEqual({ tasks: [], hasNextPage: false });
      expect(await store.listForTenant('nobody', { first: 5 })).toEqual({ tasks: [], hasNextPage: false });
    });

    it('keeps each end user’s tasks apart: pages, counts, active tasks, usage and idempotency keys by subject', async () => {
      const alice = sampleTask({ subject: 'alice', idempotencyKey: 'k' });
      const bob = sampleTask({ subject: 'bob', idempotencyKey: 'k' });
      const server = sampleTask({ idempotencyKey: 'k' });
      for (const task of [alice, bob, server]) await store.insert(task);
      const page = (subject: string | null) =>
        store.listForTenant('acme', { first: 10, subject }).then((p) => p.tasks.map((t) => t.id));
      expect(await page('alice')).toEqual([alice.id]);
      expect(await page(null)).toEqual([server.id, bob.id, alice.id]);
      // A cursor of another subject's task gives nothing to that subject.
      expect(await store.listForTenant('acme', { first: 10, subject: 'alice', after: bob.id })).toEqual({
        tasks: [],
        hasNextPage: false,
      });
      expect(await store.countForTenant({ tenantId: 'acme', subject: 'bob' }, null)).toBe(1);
      expect(await store.countForTenant({ tenantId: 'acme', subject: null }, null)).toBe(3);
      expect(await store.countActive({ tenantId: 'acme', subject: 'alice' })).toBe(1);
      expect(await store.countActive({ tenantId: 'acme', subject: 'carol' })).toBe(0);
      const usage = await store.usageForTenant(
        { tenantId: 'acme', subject: 'alice' },
        0,
        Number.MAX_SAFE_INTEGER,
      );
      expect(usage.byState.QUEUED).toBe(1);
      // The same key names a different task for each owner, the server keys' included.
      const byKey = (subject: string | null) =>
        store.findByIdempotencyKey({ tenantId: 'acme', subject }, 'k', 0).then((t) => t?.id ?? null);
      expect([await byKey('alice'), await byKey('bob'), await byKey(null), await byKey('carol')]).toEqual([
        alice.id,
        bob.id,
        server.id,
        null,
      ]);
    });

    it('orders tasks created in the same millisecond by insertion', async () => {
      const a = sampleTask();
      const b = sampleTask({ createdAt: a.createdAt });
      await store.insert(a);
      await store.insert(b);
      const page = await store.listForTenant('acme', { first: 5 });
      expect(page.tasks.map((t) => t.id)).toEqual([b.id, a.id]);
    });

    it('finds a task by idempotency key within its window, per tenant', async () => {
      const task = sampleTask({ idempotencyKey: 'order-42' });
      await store.insert(task);
      expect(
        (
          await store.findByIdempotencyKey(
            { tenantId: 'acme', subject: null },
            'order-42',
            task.createdAt - 1,
          )
        )?.id,
      ).toBe(task.id);
      expect(
        await store.findByIdempotencyKey({ tenantId: 'acme', subject: null }, 'order-42', task.createdAt + 1),
      ).toBeNull();
      expect(
        await store.findByIdempotencyKey({ tenantId: 'other', subject: null }, 'order-42', 0),
      ).toBeNull();
      expect(await store.findByIdempotencyKey({ tenantId: 'acme', subject: null }, 'order-43', 0)).toBeNull();
      await store.delete(task.id);
      expect(await store.findByIdempotencyKey({ tenantId: 'acme', subject: null }, 'order-42', 0)).toBeNull();
    });

    it('deletes a task and its index entries', async () => {
      const task = sampleTask();
      await store.insert(task);
      expect(await store.delete(task.id)).toBe(true);
      expect(await store.delete(task.id)).toBe(false);
      expect(await store.get(task.id)).toBeNull();
      expect(await store.listUnfinished()).toEqual([]);
      expect((await store.listForTenant('acme', { first: 5 })).tasks).toEqual([]);
      expect(await store.listCreatedBefore(Number.MAX_SAFE_INTEGER, 10)).toEqual([]);
    });

    it('holds a task’s estimate against the daily credit caps until it ends, then its charge, even once deleted (#25)', async () => {
      const image = { key: 'tasks/x/1.png', width: 8, height: 8, contentType: 'image/png', bytes: 9 };
      const running = sampleTask({ batchSize: 2, cutout: { status: 'waiting' } });
      const failed = sampleTask({ batchSize: 2 });
      const succeeded = sampleTask({ batchSize: 2, subject: 'alice' });
      for (const task of [running, failed, succeeded]) await store.insert(task);
      const day = creditDay(running.createdAt);
      const tenant = { tenantId: 'acme', subject: null };
      expect(await store.creditsHeld(tenant, day)).toEqual({ images: 6, cutouts: 1 });
      expect(await store.creditsHeld({ tenantId: 'acme', subject: 'alice' }, day)).toEqual({
        images: 2,
        cutouts: 0,
      });

      // A failure gives its estimate back; a success keeps what it was charged for.
      expect(await store.update(next(failed, { state: 'FAILED' }))).toBe(true);
      expect(await store.update(next(succeeded, { state: 'SUCCEEDED', images: [image] }))).toBe(true);
      expect(await store.creditsHeld(tenant, day)).toEqual({ images: 3, cutouts: 1 });

      // Deleting a task gives nothing back: it was spent.
      expect(await store.delete(succeeded.id)).toBe(true);
      expect(await store.creditsHeld(tenant, day)).toEqual({ images: 3, cutouts: 1 });
      expect(await store.creditsHeld({ tenantId: 'acme', subject: 'alice' }, day)).toEqual({
        images: 1,
        cutouts: 0,
      });
      expect(await store.creditsHeld({ tenantId: 'other', subject: null }, day)).toEqual({
        images: 0,
        cutouts: 0,
      });
      expect(await store.creditsHeld(tenant, day + 1)).toEqual({ images: 0, cutouts: 0 });
    });

    it('lists tasks created before a time, oldest first, up to a limit', async () => {
      const a = sampleTask();
      const b = sampleTask();
      const c = sampleTask();
      for (const task of [c, a, b]) await store.insert(task);
      expect((await store.listCreatedBefore(c.createdAt, 10)).map((t) => t.id)).toEqual([a.id, b.id]);
      expect((await store.listCreatedBefore(c.createdAt + 1, 2)).map((t) => t.id)).toEqual([a.id, b.id]);
      expect(await store.listCreatedBefore(a.createdAt, 10)).toEqual([]);
    });
  });
}
