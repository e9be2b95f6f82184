import type { TaskError, TaskState } from '../core/model.js';

/**
 * PicWish's task state numbers (its API documentation: 1 done, 0 queued, 2–4 working, negative
 * failed) and what each becomes in the gateway's own life cycle. They live with the upstream
 * adapter, not in the domain model: the model knows only its own states and error codes.
 */

/** Upstream failure states and the TaskError each becomes. */
const UPSTREAM_FAILURES: Readonly<Record<number, TaskError>> = {
  [-1]: { code: 'GENERATION_FAILED', message: 'PicWish could not generate a background for this image.' },
  [-2]: {
    code: 'RESULT_UPLOAD_FAILED',
    message: 'PicWish generated the background but failed to store the result. Try again.',
  },
  [-3]: {
    code: 'IMAGE_DOWNLOAD_FAILED',
    message: 'PicWish could not download the source image from its URL. Check that the URL is public.',
  },
  [-5]: {
    code: 'IMAGE_TOO_LARGE',
    message: 'The source image is over PicWish’s size limit (20 MB, 4096×4096 px).',
  },
  [-7]: {
    code: 'INVALID_IMAGE',
    message: 'PicWish found the image invalid (corrupt or not a transparent PNG).',
  },
  [-8]: { code: 'TIMEOUT', message: 'PicWish timed out while processing the image (its limit is 30 s).' },
};

/** The TaskError for a negative upstream state, including ones PicWish may add later. */
export function failureForUpstreamState(state: number, detail: string | null): TaskError {
  const known = UPSTREAM_FAILURES[state];
  if (known)
    return detail && detail !== 'Complete' ? { ...known, message: `${known.message} (${detail})` } : known;
  return {
    code: 'UNKNOWN_UPSTREAM_STATE',
    message: `PicWish ended the task in state ${state}${detail ? ` (${detail})` : ''}.`,
  };
}

/** Maps PicWish's non-failure states onto the public life cycle; null for states it never documented. */
export function stateForUpstreamState(state: number): TaskState | null {
  if (state === 1) return 'SUCCEEDED';
  if (state === 0) return 'QUEUED';
  if (state >= 2) return 'PROCESSING';
  return state < 0 ? 'FAILED' : null;
}
