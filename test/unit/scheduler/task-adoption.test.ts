import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteTaskStore } from '../../../src/adapters/sqlite/sqlite-store.js';
import type { Task } from '../../../src/core/model.js';
import {
  type AdoptionHooks,
  LocalAdoption,
  type TaskAdoption,
} from '../../../src/scheduler/task-adoption.js';
import { queuedTask } from '../../support/scheduler-parts.js';

/**
 * Which tasks a lone process drives (src/scheduler/task-adoption.ts), on an in-memory store. The
 * cluster's election (`ElectedAdoption`) is pinned by test/e2e/cluster/postgres.test.ts.
 */

function recordingHooks(): AdoptionHooks & { driven: Task[] } {
  const driven: Task[] = [];
  return {
    driven,
    isDriving: (id) => driven.some((t) => t.id === id),
    drive: (task) => void driven.push(task),
  };
}

let store: SqliteTaskStore;

beforeEach(() => {
  store = new SqliteTaskStore(':memory:');
});

afterEach(async () => {
  await store.close();
});

describe('adoption by a lone process', () => {
  it('drives every unfinished task in the store when it starts, and holds every task', async () => {
    await store.insert(queuedTask('a'));
    await store.insert(queuedTask('b'));
    await store.insert(queuedTask('done', { state: 'SUCCEEDED' }));
    const adoption: TaskAdoption = new LocalAdoption(store);
    const hooks = recordingHooks();
    await adoption.start(hooks);
    expect(hooks.driven.map((t) => t.id).sort()).toEqual(['a', 'b']);
    expect(adoption.holds('anything')).toBe(true);
  });

  it('drives nothing claimed after stop', async () => {
    const adoption = new LocalAdoption(store);
    const hooks = recordingHooks();
    await adoption.start(hooks);
    adoption.claim(queuedTask('a'), Date.now());
    expect(hooks.driven.map((t) => t.id)).toEqual(['a']);
    adoption.stop();
    adoption.claim(queuedTask('b'), Date.now());
    expect(hooks.driven.map((t) => t.id)).toEqual(['a']);
  });
});
