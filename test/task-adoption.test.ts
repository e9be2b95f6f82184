import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SqliteTaskStore } from '../src/adapters/sqlite/sqlite-store.js';
import { TaskEvents } from '../src/core/events.js';
import type { Task } from '../src/core/model.js';
import type { TaskOwnership, WatcherProbe } from '../src/scheduler/ownership.js';
import { type AdoptionHooks, LeaseAdoption } from '../src/scheduler/task-adoption.js';
import { queuedTask, silentLogger } from './support/scheduler-parts.js';

/**
 * Which tasks a process drives (src/scheduler/task-adoption.ts): per-task leases from a fake
 * `TaskOwnership`, on an in-memory store, with vitest's fake clock for the periodic scans.
 */

/** Leases held in a set; `others` are held by some other process. */
class FakeLeases implements TaskOwnership {
  readonly held = new Set<string>();
  readonly others = new Set<string>();
  readonly released: string[] = [];
  handedBack = false;
  constructor(readonly scanEveryMs: number | null) {}
  holds(taskId: string): boolean {
    return this.held.has(taskId);
  }
  async claim(taskIds: readonly string[]): Promise<string[]> {
    for (const id of taskIds) if (!this.others.has(id)) this.held.add(id);
    return taskIds.filter((id) => this.held.has(id));
  }
  async release(taskId: string): Promise<void> {
    this.held.delete(taskId);
    this.released.push(taskId);
  }
  async releaseAll(): Promise<void> {
    this.held.clear();
    this.handedBack = true;
  }
  close(): void {}
}

function recordingHooks(): AdoptionHooks & { driven: Task[] } {
  const driven: Task[] = [];
  return {
    driven,
    isDriving: (id) => driven.some((t) => t.id === id),
    drive: (task) => void driven.push(task),
    drivenIds: () => driven.map((t) => t.id),
  };
}

let store: SqliteTaskStore;
let current: LeaseAdoption | null = null;

beforeEach(() => {
  store = new SqliteTaskStore(':memory:');
});

afterEach(async () => {
  current?.stop();
  current = null;
  vi.useRealTimers();
  await store.close();
});

/** Starts adoption on the test's store with the given leases and probe; answers what it drove. */
async function startAdoption(ownership?: TaskOwnership, watchers?: WatcherProbe) {
  const adoption = new LeaseAdoption({
    store,
    events: new TaskEvents(),
    logger: silentLogger,
    ownership,
    watchers,
  });
  current = adoption;
  const hooks = recordingHooks();
  await adoption.start(hooks);
  return { adoption, hooks };
}

describe('adoption by task leases', () => {
  it('a lone process drives every unfinished task in the store when it starts', async () => {
    await store.insert(queuedTask('a'));
    await store.insert(queuedTask('b'));
    await store.insert(queuedTask('done', { state: 'SUCCEEDED' }));
    const { adoption, hooks } = await startAdoption();
    expect(hooks.driven.map((t) => t.id).sort()).toEqual(['a', 'b']);
    expect(adoption.holds('anything')).toBe(true);
  });

  it('in a cluster, a task whose owner died is taken over by the next scan', async () => {
    vi.useFakeTimers();
    const leases = new FakeLeases(1_500);
    leases.others.add('a');
    await store.insert(queuedTask('a'));
    const { hooks } = await startAdoption(leases);
    expect(hooks.driven).toEqual([]);
    leases.others.delete('a');
    await vi.advanceTimersByTimeAsync(1_600);
    expect(hooks.driven.map((t) => t.id)).toEqual(['a']);
  });

  it('a task claimed for a new request is driven once its lease is won', async () => {
    const leases = new FakeLeases(1_500);
    const { adoption, hooks } = await startAdoption(leases);
    adoption.claim(queuedTask('a'), Date.now());
    await vi.waitFor(() => expect(hooks.driven.map((t) => t.id)).toEqual(['a']));
  });

  it('a task won after stop is handed straight back instead of left to lapse', async () => {
    const leases = new FakeLeases(1_500);
    const { adoption, hooks } = await startAdoption(leases);
    adoption.stop();
    adoption.claim(queuedTask('a'), Date.now());
    await vi.waitFor(() => expect(leases.released).toEqual(['a']));
    expect(hooks.driven).toEqual([]);
  });

  it('hands every lease back on shutdown, so others take the tasks over at once', async () => {
    const leases = new FakeLeases(1_500);
    await store.insert(queuedTask('a'));
    const { adoption } = await startAdoption(leases);
    adoption.stop();
    await adoption.handBack();
    expect(leases.handedBack).toBe(true);
  });

  it('knows which driven tasks are watched on other processes, and keeps the last answer when the probe fails', async () => {
    vi.useFakeTimers();
    let failing = false;
    const watchers: WatcherProbe = {
      refreshEveryMs: 1_000,
      watched: async (ids) => {
        if (failing) throw new Error('redis away');
        return new Set(ids.filter((id) => id === 'a'));
      },
    };
    await store.insert(queuedTask('a'));
    await store.insert(queuedTask('b'));
    const { adoption } = await startAdoption(undefined, watchers);
    await vi.advanceTimersByTimeAsync(1_100);
    expect(adoption.watchedElsewhere('a')).toBe(true);
    expect(adoption.watchedElsewhere('b')).toBe(false);
    failing = true;
    await vi.advanceTimersByTimeAsync(1_100);
    expect(adoption.watchedElsewhere('a')).toBe(true);
  });
});
