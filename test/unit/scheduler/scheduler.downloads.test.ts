import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteTaskStore } from '../../../src/adapters/sqlite/sqlite-store.js';
import { TaskEvents } from '../../../src/core/events.js';
import { TaskLedger } from '../../../src/core/ledger.js';
import { UploadSpool } from '../../../src/core/upload-spool.js';
import { GatewayMetrics } from '../../../src/observability/metrics.js';
import { FsBlobStore } from '../../../src/results/fs-blob-store.js';
import type { FetchFault, ResultFetcher } from '../../../src/results/result-fetcher.js';
import type { PendingImage, StoredImage } from '../../../src/results/stored-image.js';
import { SpacedBudget } from '../../../src/scheduler/budget.js';
import { CreateJournal } from '../../../src/scheduler/create-journal.js';
import { TaskScheduler } from '../../../src/scheduler/scheduler.js';
import { err, ok } from '../../../src/shared/result.js';
import type { UpstreamClient } from '../../../src/upstream/client.js';
import { eventually } from '../../support/harness.js';
import { PRICES, queuedTask, STORED_IMAGE } from '../../support/scheduler-parts.js';

/**
 * Issue #5, the download half, against the real scheduler with a scripted upstream and fetcher:
 * a result that fails to download is retried until PicWish's hour is nearly over, and results
 * that arrive for a cancelled task are thrown away.
 */

interface Rig {
  scheduler: TaskScheduler;
  ledger: TaskLedger;
  store: SqliteTaskStore;
  fetches: number;
  discarded: string[];
}

function rig(options: {
  completedAt: () => number;
  fetch: (
    attempt: number,
  ) => Promise<ReturnType<typeof ok<StoredImage>> | ReturnType<typeof err<FetchFault>>>;
}): Rig {
  const store = new SqliteTaskStore(':memory:');
  const events = new TaskEvents();
  const ledger = new TaskLedger(store, events);
  const upstream: UpstreamClient = {
    createTask: async () => ok({ taskId: 'up-1' }),
    getTask: async (taskId) =>
      ok({
        taskId,
        state: 1,
        stateDetail: 'Complete',
        progress: 100,
        createdAt: null,
        processedAt: null,
        completedAt: options.completedAt(),
        timeElapsedMs: 1,
        images: [{ kind: 'url', url: 'http://upstream.invalid/1.png' }],
      }),
    removeBackground: async () => err({ kind: 'rejected', status: 400, message: 'not used here' }),
    close: async () => {},
  };
  const state: Rig = {
    scheduler: null as unknown as TaskScheduler,
    ledger,
    store,
    fetches: 0,
    discarded: [],
  };
  const fetcher = {
    fetch: async (_taskId: string, _image: PendingImage) => {
      state.fetches += 1;
      return options.fetch(state.fetches);
    },
    discard: async (taskId: string) => {
      state.discarded.push(taskId);
    },
    close: async () => {},
  } as unknown as ResultFetcher;
  state.scheduler = new TaskScheduler({
    keyId: 'k1',
    ledger,
    events,
    upstream,
    budget: new SpacedBudget(100),
    fetcher,
    spool: new UploadSpool(mkdtempSync(join(tmpdir(), 'result-fetch-spool-'))),
    journal: new CreateJournal(new FsBlobStore(mkdtempSync(join(tmpdir(), 'result-fetch-journal-')))),
    logger: pino({ level: 'silent' }),
    metrics: new GatewayMetrics(),
    credits: PRICES,
  });
  return state;
}

describe('result downloads', () => {
  let current: Rig | null = null;
  afterEach(async () => {
    await current?.scheduler.stop();
    await current?.store.close();
    current = null;
  });

  it('retries a failing download (a blip or a 404) and reports SUCCEEDED only once the result is stored', async () => {
    const r = rig({
      completedAt: () => Date.now(),
      fetch: async (attempt) =>
        attempt === 1
          ? err({ kind: 'transient', detail: 'reset' })
          : attempt === 2
            ? err({ kind: 'gone', detail: 'the result link answered 404' })
            : ok(STORED_IMAGE),
    });
    current = r;
    const task = queuedTask('a');
    await r.ledger.create(task);
    const seen: string[] = [];
    const updates = r.ledger.events.subscribe('a');
    void (async () => {
      for await (const t of updates) {
        seen.push(`${t.state}:${t.images.length}`);
        if (t.state === 'SUCCEEDED') break;
      }
    })();
    await r.scheduler.start();
    const done = await eventually(async () => {
      const t = await r.store.get('a');
      return t?.state === 'SUCCEEDED' ? t : undefined;
    }, 20_000);
    expect(r.fetches).toBe(3);
    expect(done.images).toEqual([STORED_IMAGE]);
    expect(done.pendingImages).toEqual([]);
    // Every earlier snapshot had no images: nobody heard SUCCEEDED before the store had them.
    expect(seen.filter((s) => s.startsWith('SUCCEEDED'))).toEqual(['SUCCEEDED:1']);
    await updates.return();
  });

  it('fails with RESULT_UNAVAILABLE once PicWish’s hour is nearly over and the download still fails', async () => {
    const r = rig({
      completedAt: () => Date.now(),
      fetch: async () => err({ kind: 'transient', detail: 'timeout' }),
    });
    current = r;
    // The gateway saw the results 56 minutes ago (its own clock) and has been failing since.
    await r.ledger.create(
      queuedTask('b', {
        state: 'PROCESSING',
        upstreamTaskId: 'up-1',
        submittedAt: Date.now() - 57 * 60 * 1000,
        completedAt: Date.now() - 56 * 60 * 1000,
        pendingImages: [{ kind: 'url', url: 'http://upstream.invalid/1.png' }],
      }),
    );
    await r.scheduler.start();
    const failed = await eventually(async () => {
      const t = await r.store.get('b');
      return t?.state === 'FAILED' ? t : undefined;
    }, 20_000);
    expect(failed.error?.code).toBe('RESULT_UNAVAILABLE');
    expect(failed.pendingImages).toEqual([]);
  });

  it('runs the download window from the gateway’s clock, not PicWish’s completed_at', async () => {
    const r = rig({
      // A hostile or broken upstream: "completed" in 1970.
      completedAt: () => 1000,
      fetch: async (attempt) =>
        attempt === 1 ? err({ kind: 'transient', detail: 'reset' }) : ok(STORED_IMAGE),
    });
    current = r;
    await r.ledger.create(queuedTask('d'));
    await r.scheduler.start();
    const done = await eventually(async () => {
      const t = await r.store.get('d');
      return t?.state === 'SUCCEEDED' || t?.state === 'FAILED' ? t : undefined;
    }, 20_000);
    expect(done.state).toBe('SUCCEEDED');
    expect(done.completedAt).toBeGreaterThan(Date.now() - 60_000);
  });

  it('throws away results that arrive after the task was cancelled', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let fetching: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      fetching = resolve;
    });
    const r = rig({
      completedAt: () => Date.now(),
      fetch: async () => {
        fetching();
        await gate;
        return ok(STORED_IMAGE);
      },
    });
    current = r;
    await r.ledger.create(queuedTask('c'));
    await r.scheduler.start();
    await started;
    await r.ledger.update('c', () => ({ state: 'CANCELLED', pendingImages: [] }));
    r.scheduler.untrack('c');
    release();
    await eventually(async () => (r.discarded.includes('c') ? true : undefined), 10_000);
    const after = await r.store.get('c');
    expect(after?.state).toBe('CANCELLED');
    expect(after?.images).toEqual([]);
  });
});
