import { describe, expect, it } from 'vitest';
import { errorFromGraphQL } from '../../../client/errors.js';

describe('the kit’s typed errors', () => {
  it('carries when a daily credit cap starts afresh with QUOTA_EXCEEDED (#25)', () => {
    const error = errorFromGraphQL(
      [
        {
          message: 'Your tenant may spend 9 PicWish credits a day (UTC)…',
          extensions: {
            code: 'QUOTA_EXCEEDED',
            resetsAt: '2026-12-07T00:00:00.000Z',
            retryAfterSeconds: 3600,
          },
        },
      ],
      200,
    );
    expect(error).toMatchObject({ code: 'QUOTA_EXCEEDED', retryAfterSeconds: 3600, status: 200 });
    expect(error.resetsAt?.toISOString()).toBe('2026-12-07T00:00:00.000Z');
  });

  it('leaves resetsAt null when the gateway gave none or gave something that is not a time', () => {
    expect(
      errorFromGraphQL([{ extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 5 } }], 200).resetsAt,
    ).toBeNull();
    expect(
      errorFromGraphQL([{ extensions: { code: 'QUOTA_EXCEEDED', resetsAt: 'soon' } }], 200).resetsAt,
    ).toBeNull();
  });
});
