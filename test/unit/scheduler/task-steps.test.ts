import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Task } from '../../../src/core/model.js';
import { needsBudget, type ScheduledStep } from '../../../src/scheduler/next-step.js';
import { err, ok } from '../../../src/shared/result.js';
import { queuedTask, STORED_IMAGE, stepsRig, upstreamStatus } from '../../support/scheduler-parts.js';

/**
 * The task state machine (src/scheduler/task-steps.ts and its step files: create-step.ts,
 * cutout-step.ts, poll-step.ts with upstream-status.ts, fetch-step.ts) one step at a time, with a
 * scripted upstream and fetcher: no HTTP, no run loop.
 */

type Rig = ReturnType<typeof stepsRig>;
let rig: Rig;

afterEach(async () => {
  await rig?.store.close();
});

async function stored(r: Rig, task: Task): Promise<Task> {
  await r.ledger.create(task);
  return task;
}

/** Takes task `id`'s next step: answers the step its outcome asks for next, or null when the task ended. */
async function stepAfter(r: Rig, id: string): Promise<ScheduledStep | null> {
  const outcome = await r.take(id);
  return outcome.kind === 'again' ? outcome.step : null;
}

async function reread(r: Rig, id: string): Promise<Task> {
  return (await r.store.get(id)) as Task;
}

/** A task already sent to PicWish, as a poll finds it. */
function submitted(id: string, overrides: Partial<Task> = {}): Task {
  return queuedTask(id, {
    state: 'PROCESSING',
    upstreamTaskId: 'up-1',
    submittedAt: Date.now(),
    ...overrides,
  });
}

describe('the create step', () => {
  it('a create that timed out is not resent and fails UPSTREAM_OUTCOME_UNKNOWN', async () => {
    rig = stepsRig();
    rig.upstream.onCreate = async () => err({ kind: 'transient', detail: 'timeout', mayHaveCreated: true });
    await stored(rig, queuedTask('a'));
    expect(await stepAfter(rig, 'a')).toBeNull();
    const task = await reread(rig, 'a');
    expect(task.state).toBe('FAILED');
    expect(task.error?.code).toBe('UPSTREAM_OUTCOME_UNKNOWN');
    expect(task.submitInFlight).toBe(false);
    expect(rig.upstream.creates).toHaveLength(1);
  });

  it('a create PicWish accepted whose record failed to store is not lost: the next take records its journaled upstream id and polls', async () => {
    rig = stepsRig();
    await stored(rig, queuedTask('a'));
    const update = rig.store.update.bind(rig.store);
    let storeDown = true;
    rig.store.update = async (next) => {
      // The write of the upstream id right after the create fails (the database is restarting).
      if (storeDown && next.upstreamTaskId !== null) {
        storeDown = false;
        throw new Error('connection terminated');
      }
      return update(next);
    };
    await expect(stepAfter(rig, 'a')).rejects.toThrow('connection terminated');
    expect((await reread(rig, 'a')).submitInFlight).toBe(true);
    expect(await rig.journal.find('a')).toBe('up-1');

    const next = await stepAfter(rig, 'a');
    expect(next?.kind).toBe('poll');
    const task = await reread(rig, 'a');
    expect(task).toMatchObject({ upstreamTaskId: 'up-1', submitInFlight: false, state: 'QUEUED' });
    expect(rig.upstream.creates).toHaveLength(1);
    expect(await rig.journal.find('a')).toBeNull();
  });

  it('a create found in flight with nothing journaled still fails UPSTREAM_OUTCOME_UNKNOWN (it may have been charged)', async () => {
    rig = stepsRig();
    await stored(rig, queuedTask('a', { submitInFlight: true, attempts: 1 }));
    expect(await stepAfter(rig, 'a')).toBeNull();
    expect((await reread(rig, 'a')).error?.code).toBe('UPSTREAM_OUTCOME_UNKNOWN');
    expect(rig.upstream.creates).toHaveLength(0);
  });

  it('a create refused before anything was created (503) is tried again later, with the flag cleared', async () => {
    rig = stepsRig();
    rig.upstream.onCreate = async () =>
      err({ kind: 'transient', detail: 'upstream answered 503', mayHaveCreated: false });
    await stored(rig, queuedTask('a'));
    const before = Date.now();
    const next = await stepAfter(rig, 'a');
    expect(next?.kind).toBe('submit');
    expect(next?.dueAt).toBeGreaterThan(before);
    const task = await reread(rig, 'a');
    expect(task.state).toBe('QUEUED');
    expect(task.submitInFlight).toBe(false);
    expect(task.attempts).toBe(1);
  });

  it('a 429 on a create pauses the whole budget and keeps the task’s place in arrival order', async () => {
    rig = stepsRig();
    rig.upstream.onCreate = async () => err({ kind: 'rate_limited', retryAfterMs: 3_000 });
    const task = await stored(rig, queuedTask('a'));
    const next = await stepAfter(rig, 'a');
    expect(rig.budget.pauses).toEqual([3_000]);
    expect(next?.dueAt).toBe(task.createdAt);
  });

  it('a task found with a create in flight (the gateway stopped mid-create) fails UPSTREAM_OUTCOME_UNKNOWN without a call', async () => {
    rig = stepsRig();
    await stored(rig, queuedTask('a', { submitInFlight: true }));
    expect(await stepAfter(rig, 'a')).toBeNull();
    expect((await reread(rig, 'a')).error?.code).toBe('UPSTREAM_OUTCOME_UNKNOWN');
    expect(rig.upstream.creates).toHaveLength(0);
  });

  it('a create PicWish refuses with 401 fails UPSTREAM_AUTH_FAILED', async () => {
    rig = stepsRig();
    rig.upstream.onCreate = async () => err({ kind: 'auth' });
    await stored(rig, queuedTask('a'));
    await stepAfter(rig, 'a');
    expect((await reread(rig, 'a')).error?.code).toBe('UPSTREAM_AUTH_FAILED');
  });

  it('an upload that vanished from the spool fails UPSTREAM_REJECTED and nothing is sent', async () => {
    rig = stepsRig();
    rig.upstream.onCreate = async (request) => {
      // What the real client does with a file it cannot open: it throws before sending.
      if (request.image.kind === 'file' && !existsSync(request.image.path)) throw new Error('ENOENT');
      return ok({ taskId: 'up-1' });
    };
    const source = {
      kind: 'file' as const,
      spoolPath: join(rig.spool.dir, 'a.png'),
      sha256: 'x',
      bytes: 1,
      width: 1,
      height: 1,
    };
    await stored(rig, queuedTask('a', { source }));
    expect(await stepAfter(rig, 'a')).toBeNull();
    const task = await reread(rig, 'a');
    expect(task.error?.code).toBe('UPSTREAM_REJECTED');
    expect(task.error?.message).toContain('no longer available');
  });

  it('a successful create records PicWish’s task id, leaves the queue, removes the upload and plans a poll', async () => {
    rig = stepsRig();
    const spoolPath = join(rig.spool.dir, 'a.png');
    writeFileSync(spoolPath, 'png');
    const source = { kind: 'file' as const, spoolPath, sha256: 'x', bytes: 3, width: 1, height: 1 };
    const task = await stored(rig, queuedTask('a', { source }));
    rig.queue.join('a', task.createdAt);
    const next = await stepAfter(rig, 'a');
    expect(next).toMatchObject({ kind: 'poll', plannedPoll: true });
    const after = await reread(rig, 'a');
    expect(after.upstreamTaskId).toBe('up-1');
    expect(after.submitInFlight).toBe(false);
    expect(await rig.queue.position('a')).toBeNull();
    expect(existsSync(spoolPath)).toBe(false);
    expect(rig.slotsReleased).toEqual(['a']);
  });

  it('a waiting task past its deadlineSeconds fails DEADLINE_EXCEEDED and is never sent', async () => {
    rig = stepsRig();
    await stored(rig, queuedTask('a', { startBy: Date.now() - 1 }));
    expect(await stepAfter(rig, 'a')).toBeNull();
    expect((await reread(rig, 'a')).error?.code).toBe('DEADLINE_EXCEEDED');
    expect(rig.upstream.creates).toHaveLength(0);
  });

  it('a cancelled task is left alone: no call, no write', async () => {
    rig = stepsRig();
    await stored(rig, queuedTask('a', { state: 'CANCELLED' }));
    expect(await stepAfter(rig, 'a')).toBeNull();
    expect(rig.upstream.creates).toHaveLength(0);
    expect((await reread(rig, 'a')).version).toBe(1);
  });
});

describe('the poll step', () => {
  it('three 404s in a row fail the task UPSTREAM_TASK_LOST; fewer are taken for blips', async () => {
    rig = stepsRig();
    rig.upstream.onPoll = async () => err({ kind: 'not_found' });
    await stored(rig, submitted('a'));
    expect(await stepAfter(rig, 'a')).not.toBeNull();
    expect(await stepAfter(rig, 'a')).not.toBeNull();
    expect(await stepAfter(rig, 'a')).toBeNull();
    expect((await reread(rig, 'a')).error?.code).toBe('UPSTREAM_TASK_LOST');
  });

  it('a task still running with the same status costs no store write', async () => {
    rig = stepsRig();
    rig.upstream.onPoll = async () =>
      ok(upstreamStatus({ state: 4, stateDetail: 'Processing', progress: 0 }));
    await stored(rig, submitted('a', { upstreamState: 4, stateDetail: 'Processing' }));
    const next = await stepAfter(rig, 'a');
    expect(next).toMatchObject({ kind: 'poll', plannedPoll: true });
    expect((await reread(rig, 'a')).version).toBe(1);
  });

  it('PicWish’s progress is recorded but held below 100 until the results are stored', async () => {
    rig = stepsRig();
    rig.upstream.onPoll = async () =>
      ok(upstreamStatus({ state: 4, stateDetail: 'Processing', progress: 100 }));
    await stored(rig, submitted('a'));
    await stepAfter(rig, 'a');
    expect((await reread(rig, 'a')).progress).toBe(99);
  });

  it('a success without images fails RESULT_UNAVAILABLE', async () => {
    rig = stepsRig();
    rig.upstream.onPoll = async () => ok(upstreamStatus({ images: [] }));
    await stored(rig, submitted('a'));
    await stepAfter(rig, 'a');
    expect((await reread(rig, 'a')).error?.code).toBe('RESULT_UNAVAILABLE');
  });

  it('a success is reported SUCCEEDED only once its results are stored', async () => {
    rig = stepsRig();
    await stored(rig, submitted('a'));
    expect(await stepAfter(rig, 'a')).toBeNull();
    const task = await reread(rig, 'a');
    expect(task.state).toBe('SUCCEEDED');
    expect(task.images).toEqual([STORED_IMAGE]);
    expect(task.pendingImages).toEqual([]);
  });

  it('a PicWish failure state ends the task with PicWish’s code', async () => {
    rig = stepsRig();
    rig.upstream.onPoll = async () => ok(upstreamStatus({ state: -1, stateDetail: 'Failed', images: [] }));
    await stored(rig, submitted('a'));
    await stepAfter(rig, 'a');
    const task = await reread(rig, 'a');
    expect(task.state).toBe('FAILED');
    expect(task.error?.code).toBe('GENERATION_FAILED');
    expect(task.upstreamState).toBe(-1);
  });
});

describe('the download step', () => {
  it('a download that failed is retried later as a download, which needs no budget slot', async () => {
    rig = stepsRig();
    const pending = [{ kind: 'url' as const, url: 'http://upstream.invalid/1.png' }];
    rig.fetcher.fetch = async () => err({ kind: 'transient', detail: 'reset' });
    await stored(rig, submitted('a', { pendingImages: pending, completedAt: Date.now() }));
    const next = await stepAfter(rig, 'a');
    expect(next?.kind).toBe('fetch');
    expect(needsBudget(next as ScheduledStep, Date.now())).toBe(false);
    expect(rig.upstream.polls).toHaveLength(0);
  });

  it('results whose links are nearly an hour old fail RESULT_UNAVAILABLE without another try', async () => {
    rig = stepsRig();
    const pending = [{ kind: 'url' as const, url: 'http://upstream.invalid/1.png' }];
    await stored(rig, submitted('a', { pendingImages: pending, completedAt: Date.now() - 56 * 60 * 1000 }));
    expect(await stepAfter(rig, 'a')).toBeNull();
    const task = await reread(rig, 'a');
    expect(task.error?.code).toBe('RESULT_UNAVAILABLE');
    expect(task.error?.message).toContain('links expired');
  });
});

describe('the background removal step (#14)', () => {
  const waiting = { cutout: { status: 'waiting' as const } };

  it('a task found with its background removal in flight fails UPSTREAM_OUTCOME_UNKNOWN without a call', async () => {
    rig = stepsRig();
    await stored(rig, queuedTask('a', { ...waiting, submitInFlight: true }));
    expect(await stepAfter(rig, 'a')).toBeNull();
    const task = await reread(rig, 'a');
    expect(task.error?.code).toBe('UPSTREAM_OUTCOME_UNKNOWN');
    expect(task.error?.message).toMatch(/removing the background.*not sent again/);
    expect(rig.upstream.segmentations).toHaveLength(0);
    expect(rig.upstream.creates).toHaveLength(0);
  });

  it('a removal that timed out is not resent and fails UPSTREAM_OUTCOME_UNKNOWN, nothing generated', async () => {
    rig = stepsRig();
    rig.upstream.onRemoveBackground = async () =>
      err({ kind: 'transient', detail: 'timeout', mayHaveCreated: true });
    await stored(rig, queuedTask('a', waiting));
    expect(await stepAfter(rig, 'a')).toBeNull();
    const task = await reread(rig, 'a');
    expect(task.error?.code).toBe('UPSTREAM_OUTCOME_UNKNOWN');
    expect(rig.upstream.segmentations).toHaveLength(1);
    expect(rig.upstream.creates).toHaveLength(0);
  });

  it('a removal refused before anything was done (503) is tried again as a removal, with the flag cleared', async () => {
    rig = stepsRig();
    rig.upstream.onRemoveBackground = async () =>
      err({ kind: 'transient', detail: 'upstream answered 503', mayHaveCreated: false });
    await stored(rig, queuedTask('a', waiting));
    const next = await stepAfter(rig, 'a');
    expect(next?.kind).toBe('cutout');
    expect(needsBudget(next as ScheduledStep, Date.now())).toBe(true);
    const task = await reread(rig, 'a');
    expect(task).toMatchObject({ state: 'QUEUED', submitInFlight: false, cutout: { status: 'waiting' } });
  });

  it('PicWish’s failure state for the removal fails CUTOUT_FAILED with its words', async () => {
    rig = stepsRig();
    rig.upstream.onRemoveBackground = async () => ok({ done: false, state: -1, detail: 'no subject found' });
    await stored(rig, queuedTask('a', waiting));
    expect(await stepAfter(rig, 'a')).toBeNull();
    const task = await reread(rig, 'a');
    expect(task.error?.code).toBe('CUTOUT_FAILED');
    expect(task.error?.message).toContain('no subject found');
  });

  it('a task with its cutout stored sends the cutout in the create and never asks for the removal again', async () => {
    rig = stepsRig();
    await stored(
      rig,
      queuedTask('a', {
        state: 'PROCESSING',
        progress: 20,
        cutout: { status: 'stored', image: STORED_IMAGE },
      }),
    );
    const next = await stepAfter(rig, 'a');
    expect(next?.kind).toBe('poll');
    expect(rig.upstream.segmentations).toHaveLength(0);
    expect(rig.upstream.creates[0]?.image).toMatchObject({ kind: 'bytes', name: 'cutout.png' });
  });

  it('generation progress after a cutout fills 20–100, never below the cutout’s 20', async () => {
    rig = stepsRig();
    rig.upstream.onPoll = async () => ok(upstreamStatus({ state: 4, progress: 50, images: [] }));
    await stored(rig, submitted('a', { progress: 20, cutout: { status: 'stored', image: STORED_IMAGE } }));
    await stepAfter(rig, 'a');
    expect((await reread(rig, 'a')).progress).toBe(60);
  });
});
