import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteTaskStore } from '../../../src/adapters/sqlite/sqlite-store.js';
import { TaskEvents } from '../../../src/core/events.js';
import type { Task } from '../../../src/core/model.js';
import { FairQueue } from '../../../src/scheduler/fair-queue.js';
import { QueuePositions } from '../../../src/scheduler/queue-positions.js';
import { LocalWaitingQueue } from '../../../src/scheduler/waiting-queue.js';
import { queuedTask } from '../../support/scheduler-parts.js';

/** Queue positions and their re-announcement (src/scheduler/queue-positions.ts). */

const store = new SqliteTaskStore(':memory:');
afterEach(() => vi.useRealTimers());

function positions(events = new TaskEvents()) {
  return new QueuePositions(new LocalWaitingQueue(), events, store, 2);
}

describe('queue positions', () => {
  it('count arrival order, and a task that left has no position', async () => {
    const queue = positions();
    queue.join('b', 200);
    queue.join('a', 100);
    queue.join('c', 300);
    expect(await queue.position('a')).toBe(1);
    expect(await queue.position('c')).toBe(3);
    queue.leave('a');
    expect(await queue.position('a')).toBeNull();
    expect(await queue.position('c')).toBe(2);
  });

  it('estimate the start one budget slot per task ahead', async () => {
    const queue = positions();
    queue.join('a', 100);
    queue.join('b', 200);
    queue.join('c', 300);
    expect((await queue.estimatedStartAt('c', 10_000))?.getTime()).toBe(11_000);
    expect(await queue.estimatedStartAt('unknown', 10_000)).toBeNull();
  });

  it('after a move, the waiting tasks watched here go to their watchers again with their new place', async () => {
    const events = new TaskEvents();
    const queue = positions(events);
    const waiting = queuedTask('w');
    const sent = queuedTask('s', { upstreamTaskId: 'up-1' });
    await store.insert(waiting);
    await store.insert(sent);
    queue.join('w', waiting.createdAt);
    const delivered: string[] = [];
    const stopW = events.watch('w', (task: Task) => void delivered.push(task.id));
    const stopS = events.watch('s', (task: Task) => void delivered.push(task.id));
    queue.start();
    queue.announceMove();
    await vi.waitFor(() => expect(delivered).toEqual(['w']));
    queue.stop();
    stopW();
    stopS();
  });

  it('while this process drives the key, a place is the fair order’s, not arrival’s (#25); otherwise the queue’s', async () => {
    const fair = new FairQueue();
    let leading = true;
    const queue = new QueuePositions(new LocalWaitingQueue(), new TaskEvents(), store, 2, {
      fair,
      leading: () => leading,
    });
    for (const [i, id] of ['a1', 'a2', 'a3', 'b1'].entries()) {
      queue.join(id, 100 + i);
      fair.add({ id, tenantId: id[0] as string, subject: null, lane: 'BATCH', arrival: 100 + i });
    }
    fair.sent('a1');
    queue.remove('a1');
    expect(await queue.position('b1')).toBe(1);
    expect(await queue.position('a3')).toBe(3);
    expect((await queue.estimatedStartAt('a3', 10_000))?.getTime()).toBe(11_000);
    leading = false;
    expect(await queue.position('b1')).toBe(3);
  });

  it('publish the fair order once for a burst of changes, and tell watchers everywhere', async () => {
    vi.useFakeTimers();
    const published: (readonly string[])[] = [];
    const waiting = new LocalWaitingQueue();
    waiting.publish = async (order: readonly string[]) => void published.push(order);
    const events = new TaskEvents();
    const moves: number[] = [];
    const stopMoves = events.onQueueMove(() => void moves.push(1));
    const fair = new FairQueue();
    const queue = new QueuePositions(waiting, events, store, 2, { fair, leading: () => true });
    queue.start();
    for (const id of ['x', 'y', 'z'])
      fair.add({ id, tenantId: id, subject: null, lane: 'INTERACTIVE', arrival: 0 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(published).toEqual([['x', 'y', 'z']]);
    expect(moves.length).toBeGreaterThanOrEqual(1);
    queue.stop();
    stopMoves();
  });
});
