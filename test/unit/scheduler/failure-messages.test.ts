import { describe, expect, it } from 'vitest';
import { expiryFailure, refusedCallFailure } from '../../../src/scheduler/failure-messages.js';
import { queuedTask } from '../../support/scheduler-parts.js';

/** How the scheduler words a failure (src/scheduler/failure-messages.ts); docs/errors.md lists the codes. */

describe('failure messages', () => {
  it('a refused call names what PicWish said, never the key', () => {
    expect(refusedCallFailure({ kind: 'auth' }).code).toBe('UPSTREAM_AUTH_FAILED');
    expect(refusedCallFailure({ kind: 'too_large' }).code).toBe('IMAGE_TOO_LARGE');
    const rejected = refusedCallFailure({ kind: 'rejected', status: 400, message: 'bad scene_type' });
    expect(rejected).toEqual({
      code: 'UPSTREAM_REJECTED',
      message: 'PicWish rejected the request (400): bad scene_type',
    });
  });

  it('a task whose time ran out says how far it got and whether anything was charged', () => {
    const now = 10_000;
    expect(expiryFailure(queuedTask('a', { startBy: now - 1 }), now).code).toBe('DEADLINE_EXCEEDED');
    expect(expiryFailure(queuedTask('a'), now).message).toContain('Nothing was charged');
    expect(expiryFailure(queuedTask('a', { upstreamTaskId: 'up-1' }), now).message).toContain(
      'accepted the task',
    );
    const fetching = queuedTask('a', {
      upstreamTaskId: 'up-1',
      pendingImages: [{ kind: 'url', url: 'http://upstream.invalid/1.png' }],
    });
    expect(expiryFailure(fetching, now).code).toBe('RESULT_UNAVAILABLE');
  });
});
