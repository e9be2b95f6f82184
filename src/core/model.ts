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
export function isWaitingToBeSent(task: Pick<Task, 'state' | 'upstreamTaskId'>): boolean {
  return task.state === 'QUEUED' && !task.upstreamTaskId;
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
  | 'UNKNOWN_UPSTREAM_STATE';

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
    }
  | { readonly kind: 'url'; readonly url: string };

/** The whole record; the store keeps it as one document. Times are epoch milliseconds. */
export interface Task {
  readonly id: string;
  readonly tenantId: string;
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
   * Set just before a create is sent and cleared with its answer. Found set on a task nobody is
   * working on, it means a process died mid-create: PicWish may or may not have the task.
   */
  readonly submitInFlight: boolean;
}

/** What a new task is made of; everything about its progress starts empty. */
export type NewTask = Pick<
  Task,
  | 'id'
  | 'tenantId'
  | 'source'
  | 'prompt'
  | 'sceneType'
  | 'negativePrompt'
  | 'batchSize'
  | 'createdAt'
  | 'idempotencyKey'
  | 'inputHash'
  | 'startBy'
  | 'finishBy'
>;

/** A task as `generateBackground` stores it: QUEUED, version 1, nothing sent or received yet. */
export function newQueuedTask(init: NewTask): Task {
  return {
    ...init,
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
