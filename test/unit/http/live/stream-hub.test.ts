import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { Task } from '../../../../src/core/model.js';
import type { SharedEvent, StreamSpec, Subscriber } from '../../../../src/http/live/stream-group.js';
import { StreamHub } from '../../../../src/http/live/stream-hub.js';

// The protocol core on its own: a fake store and event feed, an executor that counts.

type Listener = (task: Task) => void;

function fixture(
  initial: Partial<Task> | null,
  selects: 'state and version' | 'state only' = 'state and version',
) {
  let stored: Task | null = initial
    ? ({ id: 't1', tenantId: 'a', version: 1, state: 'PROCESSING', ...initial } as Task)
    : null;
  const listeners = new Set<Listener>();
  const executed: number[] = [];
  const hub = new StreamHub({
    readTask: async (caller, id) =>
      stored && stored.tenantId === caller.tenantId && stored.id === id ? stored : null,
    watch: (_id, listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    execute: async (_spec, task) => {
      executed.push(task.version);
      const selected =
        selects === 'state only' ? { state: task.state } : { state: task.state, version: task.version };
      const result = { data: { backgroundTaskUpdated: selected } };
      const final = ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(task.state);
      return { result, json: JSON.stringify(result), final };
    },
    followBatch: async () => null,
    executeBatch: async () => {
      throw new Error('no batches here');
    },
    onError: (error) => {
      throw error;
    },
  });
  const publish = (patch: Partial<Task>) => {
    stored = { ...(stored as Task), ...patch };
    for (const listener of [...listeners]) listener(stored);
  };
  return { hub, publish, executed, listeners };
}

function spec(tenantId = 'a'): StreamSpec {
  const query = 'subscription { backgroundTaskUpdated(id: "t1") { state } }';
  return {
    key: `${tenantId}|t1|${query}`,
    caller: { tenantId, subject: null },
    taskId: 't1',
    query,
    document: parse(query),
    variables: null,
    operationName: null,
  };
}

function recorder(): Subscriber & { events: SharedEvent[]; completed: boolean } {
  const events: SharedEvent[] = [];
  const self = {
    events,
    completed: false,
    next: (event: SharedEvent) => {
      expect(self.completed).toBe(false);
      events.push(event);
    },
    complete: () => {
      self.completed = true;
    },
  };
  return self;
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('stream hub', () => {
  it('gives every subscriber the snapshot, then each change, then completion, executing each once', async () => {
    const { hub, publish, executed } = fixture({});
    const subscribers = [recorder(), recorder(), recorder()];
    for (const subscriber of subscribers) expect(await hub.join(spec(), subscriber)).not.toBeNull();
    publish({ version: 2, progress: 50 });
    publish({ version: 3, state: 'SUCCEEDED' });
    await settle();
    expect(executed).toEqual([1, 2, 3]);
    for (const subscriber of subscribers) {
      expect(subscriber.events.map((e) => e.result.data)).toEqual([
        { backgroundTaskUpdated: { state: 'PROCESSING', version: 1 } },
        { backgroundTaskUpdated: { state: 'PROCESSING', version: 2 } },
        { backgroundTaskUpdated: { state: 'SUCCEEDED', version: 3 } },
      ]);
      expect(subscriber.completed).toBe(true);
    }
    // The very same serialised event reached everybody.
    expect(subscribers[1]?.events[1]).toBe(subscribers[0]?.events[1]);
    expect(hub.groupCount).toBe(0);
  });

  it('completes at once after a final snapshot and refuses a task the tenant cannot see', async () => {
    const { hub, listeners } = fixture({ state: 'SUCCEEDED' });
    const done = recorder();
    await hub.join(spec(), done);
    expect(done.events).toHaveLength(1);
    expect(done.completed).toBe(true);
    expect(await hub.join(spec('b'), recorder())).toBeNull();
    expect(listeners.size).toBe(0);
    expect(hub.groupCount).toBe(0);
  });

  it('stops delivering to a subscriber that left and drops the group with its last member', async () => {
    const { hub, publish, listeners } = fixture({});
    const staying = recorder();
    const leaving = recorder();
    await hub.join(spec(), staying);
    const leave = await hub.join(spec(), leaving);
    leave?.();
    publish({ version: 2 });
    await settle();
    expect(leaving.events).toHaveLength(1);
    expect(staying.events).toHaveLength(2);
    publish({ version: 3, state: 'CANCELLED' });
    await settle();
    expect(listeners.size).toBe(0);
    expect(hub.groupCount).toBe(0);
  });

  it('does not send a subscriber the same bytes twice when a change falls outside its selection', async () => {
    const { hub, publish, executed } = fixture({}, 'state only');
    const subscriber = recorder();
    await hub.join(spec(), subscriber);
    publish({ version: 2, progress: 10 });
    publish({ version: 3, progress: 20 });
    publish({ version: 4, state: 'SUCCEEDED' });
    await settle();
    expect(executed).toEqual([1, 2, 3, 4]);
    expect(subscriber.events.map((e) => e.result.data)).toEqual([
      { backgroundTaskUpdated: { state: 'PROCESSING' } },
      { backgroundTaskUpdated: { state: 'SUCCEEDED' } },
    ]);
    expect(subscriber.completed).toBe(true);
  });
});
