import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type PgConnection } from '../../src/adapters/postgres/connection.js';
import { migrate } from '../../src/adapters/postgres/migrations.js';
import { PgTaskEventTarget } from '../../src/adapters/postgres/pg-event-target.js';
import { PgTaskStore } from '../../src/adapters/postgres/pg-store.js';
import { TaskEvents } from '../../src/core/events.js';
import { TaskLedger } from '../../src/core/ledger.js';
import type { Task } from '../../src/core/model.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-db.js';
import { sampleTask } from '../support/store-contract.js';

const silent = pino({ level: 'silent' });
let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
  const db = openPostgres(database.url, silent);
  await migrate(db.pool);
  await db.close();
});
afterAll(async () => {
  await database?.drop();
});

/** One gateway instance's part in this: its pool, store, event target and ledger. */
interface Instance {
  readonly db: PgConnection;
  readonly store: PgTaskStore;
  readonly target: PgTaskEventTarget;
  readonly events: TaskEvents;
  readonly ledger: TaskLedger;
}

const running: Instance[] = [];
async function instance(): Promise<Instance> {
  const db = openPostgres(database.url, silent);
  const store = new PgTaskStore(db.pool);
  const target = new PgTaskEventTarget({
    url: database.url,
    pool: db.pool,
    load: (id) => store.get(id),
    logger: silent,
  });
  await target.start();
  const events = new TaskEvents(target);
  const made = { db, store, target, events, ledger: new TaskLedger(store, events) };
  running.push(made);
  return made;
}
afterEach(async () => {
  for (const each of running.splice(0)) {
    await each.target.close();
    await each.db.close();
  }
});

/** The versions one watcher receives, and a way to wait for a given one. */
function watcher(events: TaskEvents, taskId: string) {
  const seen: Task[] = [];
  const waiting: { version: number; resolve: (task: Task) => void }[] = [];
  events.watch(taskId, (task) => {
    seen.push(task);
    for (const wait of waiting.filter((w) => task.version >= w.version)) wait.resolve(task);
  });
  return {
    seen,
    version: (version: number) =>
      new Promise<Task>((resolve) => {
        const already = seen.find((task) => task.version >= version);
        if (already) resolve(already);
        else waiting.push({ version, resolve });
      }),
  };
}

describe('task updates between instances over LISTEN/NOTIFY', () => {
  it('hands changes committed on one instance to the watchers of every other, newer versions only', async () => {
    const one = await instance();
    const two = await instance();
    const task = sampleTask();
    await one.store.insert(task);
    const there = watcher(two.events, task.id);
    const here = watcher(one.events, task.id);
    await one.ledger.update(task.id, () => ({ state: 'PROCESSING', progress: 40 }));
    expect((await there.version(2)).progress).toBe(40);
    await two.ledger.update(task.id, () => ({ progress: 80 }));
    expect((await here.version(3)).progress).toBe(80);
    await one.ledger.update(task.id, () => ({ state: 'SUCCEEDED', progress: 100 }));
    expect((await there.version(4)).state).toBe('SUCCEEDED');
    expect((await here.version(4)).state).toBe('SUCCEEDED');
    // A reader loads the latest record, so a version may be skipped, but none comes twice or late.
    const versions = there.seen.map((t) => t.version);
    expect(versions).toEqual([...new Set(versions)].sort());
    expect(versions.at(-1)).toBe(4);
    expect(here.seen.map((t) => t.version)).toEqual([2, 3, 4]);
  });

  it('carries queue moves to every instance', async () => {
    const one = await instance();
    const two = await instance();
    const moved = new Promise<void>((resolve) => two.events.onQueueMove(resolve));
    one.events.announceQueueMove();
    await moved;
  });

  it('carries task removals (and any other topic, by its event type) to every instance, not back to the sender twice', async () => {
    const one = await instance();
    const two = await instance();
    const heardThere = new Promise<string>((resolve) => two.events.onRemoved(resolve));
    const heardHere: string[] = [];
    one.events.onRemoved((id) => heardHere.push(id));
    one.events.announceRemoved('task-gone');
    expect(await heardThere).toBe('task-gone');
    // A later notice proves the echo of the first had time to come back and was skipped.
    const queueMoved = new Promise<void>((resolve) => one.events.onQueueMove(resolve));
    two.events.announceQueueMove();
    await queueMoved;
    expect(heardHere).toEqual(['task-gone']);
  });

  it('carries the watch announcements of a thousand tasks to the other instances, within the NOTIFY size limit', async () => {
    const one = await instance();
    const two = await instance();
    const ids = Array.from({ length: 1_000 }, (_, i) => `${sampleTask().id}-${i}`);
    const heard = new Set<string>();
    const all = new Promise<void>((resolve) => {
      two.target.onWatchNotice((origin, announced, on) => {
        expect(on).toBe(true);
        expect(origin).not.toBe('');
        for (const id of announced) heard.add(id);
        if (heard.size === ids.length) resolve();
      });
    });
    one.target.onWatchNotice(() => expect.fail('an instance hears its own announcements'));
    one.target.announceWatches(ids, true);
    await all;
    expect([...heard].sort()).toEqual([...ids].sort());
  });

  it('reconnects after its backend is terminated and re-reads every watched task', async () => {
    const one = await instance();
    const two = await instance();
    const task = sampleTask();
    // Stored and changed without a word (as if the NOTIFYs were sent while the listener was away).
    await one.store.insert(task);
    const there = watcher(two.events, task.id);
    expect(await one.store.update({ ...task, progress: 30, version: 2 })).toBe(true);
    const admin = openPostgres(database.url, silent);
    try {
      const { rows } = await admin.pool.query(
        `select pg_terminate_backend(pid) as killed from pg_stat_activity
         where application_name = 'pwg-listen' and datname = current_database()`,
      );
      expect(rows.length).toBeGreaterThanOrEqual(2);
    } finally {
      await admin.close();
    }
    expect((await there.version(2)).progress).toBe(30);
    // Listening again: the next announced change arrives as usual.
    await one.ledger.update(task.id, () => ({ progress: 60 }));
    expect((await there.version(3)).progress).toBe(60);
    expect(there.seen.map((t) => t.version)).toEqual([2, 3]);
  });
});
