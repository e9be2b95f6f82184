import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { BatchView } from '../../../../src/core/batches.js';
import type { BatchStreamSpec } from '../../../../src/http/live/batch-group.js';
import type { SharedEvent, Subscriber } from '../../../../src/http/live/stream-group.js';
import { StreamHub } from '../../../../src/http/live/stream-hub.js';

// A batch group on its own: one feed and one execution per view for every member, whatever joined when.

const view = (succeeded: number, done = false) => ({ succeeded, done }) as unknown as BatchView;

function rig(visible = true) {
  const feed = {
    listener: null as { next(v: BatchView): void; complete(): void } | null,
    follows: 0,
    left: 0,
  };
  const executed: number[] = [];
  const hub = new StreamHub({
    readTask: async () => null,
    watch: () => () => {},
    execute: async () => {
      throw new Error('no tasks here');
    },
    followBatch: async (_caller, _id, listener) => {
      feed.follows += 1;
      if (!visible) return null;
      feed.listener = listener;
      listener.next(view(0));
      return () => {
        feed.left += 1;
      };
    },
    executeBatch: async (_spec, v) => {
      const { succeeded, done } = v as unknown as { succeeded: number; done: boolean };
      executed.push(succeeded);
      const result = { data: { backgroundBatchUpdated: { succeeded } } };
      return { result, json: JSON.stringify(result), final: done };
    },
    onError: (error) => {
      throw error;
    },
  });
  return { hub, feed, executed };
}

const query = 'subscription { backgroundBatchUpdated(id: "b1") { counts { succeeded } } }';
const spec: BatchStreamSpec = {
  key: 'a|b1',
  caller: { tenantId: 'a', subject: null },
  batchId: 'b1',
  query,
  document: parse(query),
  variables: null,
  operationName: null,
};

function recorder(): Subscriber & { seen: number[]; completed: boolean } {
  const seen: number[] = [];
  const r = {
    seen,
    completed: false,
    next: (event: SharedEvent) =>
      void seen.push(
        (event.result.data as { backgroundBatchUpdated: { succeeded: number } }).backgroundBatchUpdated
          .succeeded,
      ),
    complete: () => {
      r.completed = true;
    },
  };
  return r;
}

describe('batch groups in the stream hub', () => {
  it('follows the feed once and executes each view once for every member, late joiners from the latest', async () => {
    const { hub, feed, executed } = rig();
    const [a, b, late] = [recorder(), recorder(), recorder()];
    await Promise.all([hub.join(spec, a), hub.join(spec, b)]);
    expect(feed.follows).toBe(1);
    feed.listener?.next(view(1));
    await hub.join(spec, late);
    feed.listener?.next(view(2, true));
    feed.listener?.complete();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(executed).toEqual([0, 1, 2]);
    expect(a.seen).toEqual([0, 1, 2]);
    expect(b.seen).toEqual([0, 1, 2]);
    expect(late.seen).toEqual([1, 2]);
    expect([a, b, late].every((r) => r.completed)).toBe(true);
    expect(hub.groupCount).toBe(0);
    expect(feed.left).toBe(1);
  });

  it('stops following when the last member leaves, and answers null for a batch the caller may not follow', async () => {
    const { hub, feed } = rig();
    const leave = await hub.join(spec, recorder());
    leave?.();
    expect(feed.left).toBe(1);
    expect(hub.groupCount).toBe(0);
    const hidden = rig(false);
    expect(await hidden.hub.join(spec, recorder())).toBeNull();
    expect(hidden.hub.groupCount).toBe(0);
  });
});
