import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type PgConnection } from '../../src/adapters/postgres/connection.js';
import { migrate } from '../../src/adapters/postgres/migrations.js';
import { pgKeyScope } from '../../src/adapters/postgres/pg-key-scope.js';
import { PgTaskStore } from '../../src/adapters/postgres/pg-store.js';
import { PgWaitingQueue } from '../../src/adapters/postgres/pg-waiting-queue.js';
import type { Task } from '../../src/core/model.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-db.js';
import { sampleTask } from '../support/store-contract.js';

/**
 * The cluster's queue positions (#25, src/adapters/postgres/pg-waiting-queue.ts): every instance
 * reads a task's place against the send order the key's leader published, counting only tasks
 * still unsent; a task the order does not hold yet comes after it, by arrival.
 */
let database: TestDatabase;
let db: PgConnection;
let store: PgTaskStore;

beforeAll(async () => {
  database = await createTestDatabase();
  db = openPostgres(database.url, pino({ level: 'silent' }));
  await migrate(db.pool);
  store = new PgTaskStore(db.pool);
});

afterAll(async () => {
  await db?.close();
  await database?.drop();
});

async function waitingTask(keyId: string): Promise<Task> {
  const task = sampleTask({ picwishKeyId: keyId });
  await store.insert(task);
  return task;
}

describe("the cluster's waiting queue", () => {
  it("places tasks by the leader's published order, not by arrival, and counts only the unsent ahead", async () => {
    const queue = new PgWaitingQueue(db.pool, pgKeyScope('k1', ['k1']), 'k1');
    const [a, b, c, d] = [
      await waitingTask('k1'),
      await waitingTask('k1'),
      await waitingTask('k1'),
      await waitingTask('k1'),
    ];
    const ids = [a, b, c, d].map((task) => (task as Task).id);
    // Arrival order until the leader publishes.
    expect(await Promise.all(ids.map((id) => queue.position(id)))).toEqual([1, 2, 3, 4]);
    await queue.publish([d?.id, b?.id, a?.id] as string[]);
    // c is not in the order yet: after the three ordered ones.
    expect(await Promise.all(ids.map((id) => queue.position(id)))).toEqual([3, 2, 4, 1]);
    // d is sent: it no longer counts ahead of anyone, though the published order still names it.
    await store.update({ ...(d as Task), version: (d as Task).version + 1, upstreamTaskId: 'up-d' });
    expect(await queue.position(b?.id as string)).toBe(1);
    expect(await queue.position(c?.id as string)).toBe(3);
    expect(await queue.position('no-such-task')).toBeNull();
  });

  it("keeps each key's order apart", async () => {
    const one = new PgWaitingQueue(db.pool, pgKeyScope('k2', ['k2', 'k3']), 'k2');
    const two = new PgWaitingQueue(db.pool, pgKeyScope('k3', ['k2', 'k3']), 'k3');
    const [x, y] = [await waitingTask('k2'), await waitingTask('k2')];
    const z = await waitingTask('k3');
    await one.publish([y.id, x.id]);
    await two.publish([z.id]);
    expect(await one.position(y.id)).toBe(1);
    expect(await one.position(x.id)).toBe(2);
    expect(await two.position(z.id)).toBe(1);
  });
});
