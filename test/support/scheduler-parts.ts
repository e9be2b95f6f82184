import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SqliteTaskStore } from '../../src/adapters/sqlite/sqlite-store.js';
import { TaskEvents } from '../../src/core/events.js';
import { TaskLedger } from '../../src/core/ledger.js';
import { newQueuedTask, type Task } from '../../src/core/model.js';
import { UploadSpool } from '../../src/core/upload-spool.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';
import { FsBlobStore } from '../../src/results/fs-blob-store.js';
import type { FetchFault, ResultFetcher } from '../../src/results/result-fetcher.js';
import type { StoredImage } from '../../src/results/stored-image.js';
import type { UpstreamBudget } from '../../src/scheduler/budget.js';
import { CreateJournal } from '../../src/scheduler/create-journal.js';
import type { ScheduledStep } from '../../src/scheduler/next-step.js';
import { PollTiming } from '../../src/scheduler/poll-timing.js';
import { QueuePositions } from '../../src/scheduler/queue-positions.js';
import { SchedulerMetrics } from '../../src/scheduler/scheduler-metrics.js';
import { TaskSteps } from '../../src/scheduler/task-steps.js';
import { TaskTraces } from '../../src/scheduler/task-traces.js';
import { LocalWaitingQueue } from '../../src/scheduler/waiting-queue.js';
import { ok, type Result } from '../../src/shared/result.js';
import type { UpstreamClient, UpstreamFault } from '../../src/upstream/client.js';
import type {
  CreateTaskRequest,
  OutgoingImage,
  SegmentationOutcome,
  UpstreamTaskStatus,
} from '../../src/upstream/wire.js';

/** PicWish's default prices (PICWISH_CREDITS_PER_IMAGE, PICWISH_CUTOUT_CREDITS), for scheduler parts built by hand. */
export const PRICES = { perImage: 3, cutout: 1 } as const;

/**
 * Fakes and a small rig for the scheduler's unit specs: its parts driven directly, with a scripted
 * upstream and fetcher in place of HTTP, on an in-memory SQLite store.
 */

export const silentLogger = pino({ level: 'silent' });

/** A QUEUED task with a URL source, due to finish ten minutes from now. */
export function queuedTask(id: string, overrides: Partial<Task> = {}): Task {
  const now = Date.now();
  return {
    ...newQueuedTask({
      id,
      tenantId: 't',
      source: { kind: 'url', url: 'https://example.com/a.png' },
      prompt: 'p',
      sceneType: null,
      negativePrompt: null,
      batchSize: 1,
      createdAt: now,
      idempotencyKey: null,
      inputHash: 'h',
      startBy: null,
      finishBy: now + 600_000,
      picwishKeyId: null,
    }),
    ...overrides,
  };
}

/** A scheduled step with defaults that make it a due create. */
export function step(overrides: Partial<ScheduledStep> = {}): ScheduledStep {
  return { kind: 'submit', callsUntil: Number.POSITIVE_INFINITY, dueAt: 0, plannedPoll: false, ...overrides };
}

/** PicWish's answer to a poll: state 1 (success) with one image unless told otherwise. */
export function upstreamStatus(overrides: Partial<UpstreamTaskStatus> = {}): UpstreamTaskStatus {
  return {
    taskId: 'up-1',
    state: 1,
    stateDetail: 'Complete',
    progress: 100,
    createdAt: null,
    processedAt: null,
    completedAt: Date.now(),
    timeElapsedMs: 1,
    images: [{ kind: 'url', url: 'http://upstream.invalid/1.png' }],
    ...overrides,
  };
}

export const STORED_IMAGE: StoredImage = {
  key: 'results/x/abc.png',
  width: 10,
  height: 10,
  contentType: 'image/png',
  bytes: 5,
};

type CreateAnswer = Result<{ taskId: string }, UpstreamFault>;
type PollAnswer = Result<UpstreamTaskStatus, UpstreamFault>;
type CutoutAnswer = Result<SegmentationOutcome, UpstreamFault>;

/** An upstream that answers from scripts and records every call. */
export class ScriptedUpstream implements UpstreamClient {
  readonly creates: CreateTaskRequest[] = [];
  readonly polls: string[] = [];
  onCreate: (request: CreateTaskRequest) => Promise<CreateAnswer> = async () => ok({ taskId: 'up-1' });
  onPoll: (taskId: string) => Promise<PollAnswer> = async () => ok(upstreamStatus());
  readonly segmentations: OutgoingImage[] = [];
  onRemoveBackground: (image: OutgoingImage) => Promise<CutoutAnswer> = async () =>
    ok({ done: true, image: { kind: 'base64', data: 'iVBORw0KGgo=' } });

  createTask(request: CreateTaskRequest): Promise<CreateAnswer> {
    this.creates.push(request);
    return this.onCreate(request);
  }

  getTask(taskId: string): Promise<PollAnswer> {
    this.polls.push(taskId);
    return this.onPoll(taskId);
  }

  removeBackground(image: OutgoingImage): Promise<CutoutAnswer> {
    this.segmentations.push(image);
    return this.onRemoveBackground(image);
  }

  async close(): Promise<void> {}
}

/** A fetcher that answers from a script and records what it threw away. */
export function scriptedFetcher(
  answer: () => Promise<Result<StoredImage, FetchFault>> = async () => ok(STORED_IMAGE),
): ResultFetcher & { discarded: string[] } {
  const discarded: string[] = [];
  return {
    fetch: () => answer(),
    load: async () => Buffer.from('stored cutout'),
    discard: async (taskId: string) => {
      discarded.push(taskId);
    },
    close: async () => {},
    discarded,
  } as unknown as ResultFetcher & { discarded: string[] };
}

/** A budget that grants at once and records the pauses asked of it. */
export function recordingBudget(): UpstreamBudget & { pauses: number[]; released: boolean[] } {
  const pauses: number[] = [];
  const released: boolean[] = [];
  return {
    qps: 2,
    granted: 0,
    pauses,
    released,
    acquire: async (signal?: AbortSignal) =>
      signal?.aborted ? null : { release: (used = true) => void released.push(used) },
    backOff: (ms: number) => void pauses.push(ms),
    close: () => {},
  };
}

/** `TaskSteps` wired to an in-memory store and the fakes above. */
export function stepsRig() {
  const store = new SqliteTaskStore(':memory:');
  const events = new TaskEvents();
  const ledger = new TaskLedger(store, events);
  const upstream = new ScriptedUpstream();
  const fetcher = scriptedFetcher();
  const spool = new UploadSpool(mkdtempSync(join(tmpdir(), 'steps-spool-')));
  const journal = new CreateJournal(new FsBlobStore(mkdtempSync(join(tmpdir(), 'steps-journal-'))));
  const budget = recordingBudget();
  const queue = new QueuePositions(new LocalWaitingQueue(), events, store, budget.qps);
  const planned: ScheduledStep[] = [];
  const polls = new PollTiming(
    () => 'nobody',
    () => planned,
  );
  const steps = new TaskSteps({
    ledger,
    upstream,
    fetcher,
    spool,
    journal,
    budget,
    logger: silentLogger,
    metrics: new SchedulerMetrics(new GatewayMetrics(), PRICES, 'k1'),
    traces: new TaskTraces(),
    queue,
    polls,
  });
  const slotsReleased: string[] = [];
  /** Takes task `id`'s next step on a slot that notes when the step released it. */
  const take = (id: string) => steps.take(id, { release: () => void slotsReleased.push(id) });
  return {
    store,
    events,
    ledger,
    upstream,
    fetcher,
    spool,
    journal,
    budget,
    queue,
    planned,
    slotsReleased,
    steps,
    take,
  };
}
