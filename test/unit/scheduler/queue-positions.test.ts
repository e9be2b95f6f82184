import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteTaskStore } from '../../../src/adapters/sqlite/sqlite-store.js';
import { TaskEvents } from '../../../src/core/events.js';
import type { Task } from '../../../src/core/model.js';
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
});
