import type { PendingImage, StoredImage } from '../results/stored-image.js';

/**
 * The gateway's own task: what a client asked for, where it stands upstream, and what came of it.
 * Tasks belong to the gateway, not to PicWish — the id is ours, the record outlives PicWish's
 * one-hour result links, and every change bumps `version` so watchers can drop stale events.
 */

/** The public life cycle (the schema's BackgroundTaskState). */
export type TaskState = 'QUEUED' | 'PROCESSING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

/** States after which nothing about a task changes any more. */
export const TERMINAL_STATES: ReadonlySet<TaskState> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

/** True once a task can no longer change. */
export function isTerminal(state: TaskState): boolean {
  return TERMINAL_STATES.has(state);
}

/**
 * True while a task waits in the gateway's own queue. A task with an upstream id was sent,
 * whatever a shared queue says yet: the scheduler publishes that update before it removes the task
 * from the (shared) waiting queue.
 */
export function isWaitingToBeSent(task: Pick<Task, 'state' | 'upstreamTaskId' | 'cutout'>): boolean {
  return task.state === 'QUEUED' && !hasStarted(task);
}

/**
 * True once PicWish did anything for the task that counts: the create was accepted, or the cutout
 * of a `removeBackground` task is stored. Before that a task is only waiting, and its
 * `deadlineSeconds` (start-by) still applies.
 */
export function hasStarted(task: Pick<Task, 'upstreamTaskId' | 'cutout'>): boolean {
  return task.upstreamTaskId !== null || task.cutout?.status === 'stored';
}

/**
 * The step a task is in (#14): removing the photo's background, generating, or storing results.
 * Derived from the record rather than stored beside it, so it can never disagree with the fields
 * that decide what the scheduler does next. Null once the task is final: its state says how it
 * ended. A task waiting in the queue is in the first step it waits for.
 */
export type TaskStage = 'CUTOUT' | 'GENERATING' | 'STORING';

/** The stage of `task`; see TaskStage. */
export function stageOf(task: Pick<Task, 'state' | 'cutout' | 'pendingImages'>): TaskStage | null {
  if (isTerminal(task.state)) return null;
  if (task.pendingImages.length > 0) return 'STORING';
  if (task.cutout && task.cutout.status !== 'stored') return 'CUTOUT';
  return 'GENERATING';
}

/**
 * How much of a task's progress the cutout step stands for, in percent: a `removeBackground`
 * task reaches this once its cutout is stored, and PicWish's generation progress fills the rest.
 */
export const CUTOUT_PROGRESS_SHARE = 20;

/** The task's overall progress for PicWish's generation progress `upstream` (0–100). */
export function generationProgress(task: Pick<Task, 'cutout'>, upstream: number): number {
  if (!task.cutout) return upstream;
  return Math.round(CUTOUT_PROGRESS_SHARE + (upstream * (100 - CUTOUT_PROGRESS_SHARE)) / 100);
}

/**
 * Stable codes of `TaskError.code`; the README's error table explains each. Upstream failure
 * states map one to one (see `failureForUpstreamState` in upstream/states.ts).
 */
export type TaskErrorCode =
  | 'GENERATION_FAILED'
  | 'RESULT_UPLOAD_FAILED'
  | 'IMAGE_DOWNLOAD_FAILED'
  | 'IMAGE_TOO_LARGE'
  | 'INVALID_IMAGE'
  | 'TIMEOUT'
  | 'UPSTREAM_REJECTED'
  | 'UPSTREAM_AUTH_FAILED'
  | 'UPSTREAM_UNAVAILABLE'
  | 'UPSTREAM_OUTCOME_UNKNOWN'
  | 'UPSTREAM_TASK_LOST'
  | 'DEADLINE_EXCEEDED'
  | 'RESULT_UNAVAILABLE'
  | 'UNKNOWN_UPSTREAM_STATE'
  | 'CUTOUT_FAILED';

/** Why a task FAILED, in words a client can show. */
export interface TaskError {
  readonly code: TaskErrorCode;
  readonly message: string;
}

/** Where the foreground comes from; an upload lives in the spool until PicWish has it. */
export type TaskSource =
  | {
      readonly kind: 'file';
      readonly spoolPath: string;
      readonly sha256: string;
      readonly bytes: number;
      readonly width: number;
      readonly height: number;
      /**
       * What the file is: a transparent PNG, or (with `removeBackground`) a JPEG, PNG or WebP
       * photo. Absent on records written before #14, whose uploads were all PNGs.
       */
      readonly contentType?: 'image/png' | 'image/jpeg' | 'image/webp';
    }
  | { readonly kind: 'url'; readonly url: string };

/**
 * Background removal before generation (#14), for a task created with `removeBackground`:
 * `waiting` until PicWish's cutout is stored in the blob store (`stored`, with the stored image);
 * from then on the create sends the cutout, and the photo in the spool is gone.
 */
export type CutoutStep =
  | { readonly status: 'waiting' }
  | { readonly status: 'stored'; readonly image: StoredImage };

/** Where a task's webhooks go and which states they announce (src/core/webhooks.ts). */
export interface WebhookSubscription {
  readonly url: string;
  readonly events: readonly TaskState[];
}

/** The whole record; the store keeps it as one document. Times are epoch milliseconds. */
export interface Task {
  readonly id: string;
  readonly tenantId: string;
  /** The end user (session subject) that made the task; null when made with a server key (#23). */
  readonly subject?: string | null;
  readonly version: number;
  readonly state: TaskState;
  readonly upstreamTaskId: string | null;
  readonly upstreamState: number | null;
  readonly stateDetail: string | null;
  readonly progress: number;
  readonly source: TaskSource;
  readonly prompt: string | null;
  readonly sceneType: number | null;
  readonly negativePrompt: string | null;
  readonly batchSize: 1 | 2;
  /**
   * Null unless the task was created with `removeBackground` (absent on records written before
   * #14, read the same way); then how far the background removal got.
   */
  readonly cutout?: CutoutStep | null;
  readonly createdAt: number;
  readonly submittedAt: number | null;
  readonly processedAt: number | null;
  readonly completedAt: number | null;
  readonly timeElapsedMs: number | null;
  readonly images: readonly StoredImage[];
  /** Upstream results still to download; emptied once they are stored. */
  readonly pendingImages: readonly PendingImage[];
  readonly error: TaskError | null;
  readonly idempotencyKey: string | null;
  /** Hash of the normalised input, to tell an idempotent replay from a key reused for other input. */
  readonly inputHash: string;
  /** The client's `deadlineSeconds`: not started by then, the task fails without being sent. */
  readonly startBy: number | null;
  /** The gateway's own limit (`PICWISH_TASK_DEADLINE_MS`) for reaching a terminal state. */
  readonly finishBy: number;
  /** Submission attempts made so far, for backoff and the resubmission rule. */
  readonly attempts: number;
  /**
   * Set just before a call that PicWish charges is sent (the create, or the background removal of
   * a `removeBackground` task) and cleared with its answer. Found set on a task nobody is working
   * on, it means a process died mid-call: PicWish may or may not have acted on it.
   */
  readonly submitInFlight: boolean;
  /**
   * Which PicWish key carries the task (a short hash naming it, never the key): chosen at creation
   * and kept, since an upstream task can only be polled with the key that created it. Null on
   * tasks stored before the key pool; the pool's first key drives those.
   */
  readonly picwishKeyId: string | null;
  /** The batch (`generateBackgrounds`) that created the task; absent on tasks made alone or before batches. */
  readonly batchId?: string | null;
  /** The task's `webhookUrl` and `webhookEvents`; absent or null: no webhooks (older records lack it). */
  readonly webhook?: WebhookSubscription | null;
  /** Its lane in its flow's share of the key (#25); absent on older records, read as INTERACTIVE. */
  readonly priority?: TaskPriority;
}

/**
 * How urgent a task's sending is within its flow (#25, src/scheduler/fair-queue.ts): someone
 * waits for an INTERACTIVE one; BATCH work goes after it, with a small share kept so it never starves.
 */
export type TaskPriority = 'INTERACTIVE' | 'BATCH';

/** The lane of `task`; records written before #25 have none and are INTERACTIVE. */
export function priorityOf(task: Pick<Task, 'priority'>): TaskPriority {
  return task.priority ?? 'INTERACTIVE';
}

/** What a new task is made of; everything about its progress starts empty. */
export type NewTask = Pick<
  Task,
  | 'id'
  | 'tenantId'
  | 'subject'
  | 'source'
  | 'prompt'
  | 'sceneType'
  | 'negativePrompt'
  | 'batchSize'
  | 'cutout'
  | 'createdAt'
  | 'idempotencyKey'
  | 'inputHash'
  | 'startBy'
  | 'finishBy'
  | 'picwishKeyId'
  | 'webhook'
> &
  Pick<Partial<Task>, 'batchId' | 'priority'>;

/** A task as `generateBackground` stores it: QUEUED, version 1, nothing sent or received yet. */
export function newQueuedTask(init: NewTask): Task {
  return {
    ...init,
    batchId: init.batchId ?? null,
    version: 1,
    state: 'QUEUED',
    upstreamTaskId: null,
    upstreamState: null,
    stateDetail: null,
    progress: 0,
    submittedAt: null,
    processedAt: null,
    completedAt: null,
    timeElapsedMs: null,
    images: [],
    pendingImages: [],
    error: null,
    attempts: 0,
    submitInFlight: false,
  };
}
