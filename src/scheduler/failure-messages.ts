import { hasStarted, type Task, type TaskError } from '../core/model.js';
import type { UpstreamFault } from '../upstream/client.js';

/**
 * Every way the scheduler can end a task with FAILED, with the words its owner reads. Kept in one
 * place so the codes stay true to docs/errors.md and each message says what was (not) charged.
 * PicWish's own failure states are worded in src/upstream/states.ts.
 */

/** The spooled upload is gone before it was sent: nothing reached PicWish, so nothing was charged. */
export const UPLOAD_GONE: TaskError = {
  code: 'UPSTREAM_REJECTED',
  message: 'The uploaded image is no longer available.',
};

/** Found with a create in flight after a restart: PicWish may or may not have started it. */
export const CREATE_INTERRUPTED: TaskError = {
  code: 'UPSTREAM_OUTCOME_UNKNOWN',
  message:
    'The gateway stopped while sending this task to PicWish, so it cannot tell whether PicWish started it. It was not sent again, to avoid a second charge; submit it again if you still want it.',
};

/** Found with a background removal in flight after a restart (#14): PicWish may have done it. */
export const CUTOUT_INTERRUPTED: TaskError = {
  code: 'UPSTREAM_OUTCOME_UNKNOWN',
  message:
    'The gateway stopped while PicWish was removing the background, so it cannot tell whether that was done (and charged). It was not sent again, to avoid a second charge; nothing was generated. Submit the task again if you still want it.',
};

/** The background removal may have been done, but its answer holds no cutout. */
export function unclearCutoutAnswer(detail: string): TaskError {
  return {
    code: 'UPSTREAM_OUTCOME_UNKNOWN',
    message: `PicWish did not give a clear answer to the background removal (${detail}); it may have done it. It was not sent again, to avoid a second charge; nothing was generated. Submit the task again if you still want it.`,
  };
}

/** PicWish ended the background removal in a failure state: nothing to generate from. */
export function cutoutFailure(state: number, detail: string | null): TaskError {
  return {
    code: 'CUTOUT_FAILED',
    message: `PicWish could not remove the photo’s background (state ${state}${detail ? `: ${detail}` : ''}). Nothing was generated; try a photo with a clearer subject, or upload a transparent PNG without removeBackground.`,
  };
}

/** The cutout came back, but is unusable as a foreground (empty, nothing removed, not an image). */
export function unusableCutout(detail: string): TaskError {
  return {
    code: 'CUTOUT_FAILED',
    message: `PicWish removed the background, but the cutout cannot be used: ${detail} Nothing was generated.`,
  };
}

/** The stored cutout cannot be read back for the create. */
export const CUTOUT_GONE: TaskError = {
  code: 'CUTOUT_FAILED',
  message: 'The stored cutout of the photo could not be read, so nothing was generated.',
};

/** The background removal was refused for good (not a blip), in the task's terms. */
export function refusedCutoutFailure(fault: UpstreamFault): TaskError {
  const refused = refusedCallFailure(fault);
  return {
    code: refused.code,
    message: `PicWish refused to remove the photo’s background, so nothing was generated or charged. ${refused.message}`,
  };
}

/** The create may have reached PicWish, but its answer does not name a task. */
export function unclearCreateAnswer(detail: string): TaskError {
  return {
    code: 'UPSTREAM_OUTCOME_UNKNOWN',
    message: `PicWish did not give a clear answer to the create request (${detail}); it may have started the task. It was not sent again, to avoid a second charge; submit it again if you still want it.`,
  };
}

/** PicWish refused a call for good (not a blip): what it said, in the task's terms. */
export function refusedCallFailure(fault: UpstreamFault): TaskError {
  switch (fault.kind) {
    case 'auth':
      return {
        code: 'UPSTREAM_AUTH_FAILED',
        message:
          'PicWish refused the gateway’s API key (401). The operator should check PICWISH_API_KEY and that the Generate Background service is enabled for it.',
      };
    case 'too_large':
      return { code: 'IMAGE_TOO_LARGE', message: 'PicWish refused the image as too large (413).' };
    case 'rejected':
      return {
        code: 'UPSTREAM_REJECTED',
        message: `PicWish rejected the request (${fault.status})${fault.message ? `: ${fault.message}` : '.'}`,
      };
    case 'not_found':
      return {
        code: 'UPSTREAM_REJECTED',
        message: 'PicWish answered 404 for the create endpoint; the operator should check PICWISH_BASE_URL.',
      };
    default:
      return { code: 'UPSTREAM_UNAVAILABLE', message: 'PicWish could not be reached.' };
  }
}

/** PicWish answered 404 for a submitted task too often to be a blip. */
export const TASK_LOST_UPSTREAM: TaskError = {
  code: 'UPSTREAM_TASK_LOST',
  message: 'PicWish no longer knows this task (it answered 404 repeatedly).',
};

/** PicWish said SUCCEEDED with nothing to show for it. */
export const NO_RESULT_IMAGES: TaskError = {
  code: 'RESULT_UNAVAILABLE',
  message: 'PicWish reported success but returned no images.',
};

/** A result could be downloaded but is not an image the gateway can store. */
export function unstorableResult(detail: string): TaskError {
  return { code: 'RESULT_UNAVAILABLE', message: `A result image could not be stored: ${detail}.` };
}

/** Why a task whose time ran out (see `expiresAt` in next-step.ts) fails, by how far it got. */
export function expiryFailure(task: Task, now: number): TaskError {
  if (task.pendingImages.length > 0) {
    return {
      code: 'RESULT_UNAVAILABLE',
      message: 'PicWish finished, but its results could not be downloaded before its links expired.',
    };
  }
  if (!hasStarted(task) && task.startBy !== null && now > task.startBy) {
    return {
      code: 'DEADLINE_EXCEEDED',
      message:
        'The task was not started before its deadlineSeconds ran out, so it was never sent to PicWish.',
    };
  }
  if (!task.upstreamTaskId && hasStarted(task)) {
    return {
      code: 'UPSTREAM_UNAVAILABLE',
      message:
        'The background was removed, but PicWish could not be reached to generate before the task’s deadline. Only the background removal was charged; try again later.',
    };
  }
  if (!task.upstreamTaskId) {
    return {
      code: 'UPSTREAM_UNAVAILABLE',
      message:
        'PicWish could not be reached before the task’s deadline. Nothing was charged; try again later.',
    };
  }
  return {
    code: 'DEADLINE_EXCEEDED',
    message: 'PicWish accepted the task but did not finish it before the gateway’s deadline.',
  };
}
