import { describe, expect } from 'vitest';
import { stackTest } from '../support/stack-test.js';
import { bearer, generate, TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';
import { codeOf, MINT, SESSION_SECRET } from './session-stack.js';

/** Per-subject limits: SUBJECT_MAX_ACTIVE_TASKS holds one end user back under a burst, and no one else. */

const it = stackTest({
  engine: { durationMs: 60_000 },
  env: {
    GATEWAY_API_KEYS: TWO_TENANT_KEYS,
    SESSION_TOKEN_SECRET: SESSION_SECRET,
    SUBJECT_MAX_ACTIVE_TASKS: '2',
    SUBJECT_RATE_LIMIT_PER_MINUTE: '3',
  },
});

describe('per-subject limits', () => {
  it('holds SUBJECT_MAX_ACTIVE_TASKS under a burst of parallel creates, for that subject only', async ({
    stack: limited,
  }) => {
    const token = async (subject: string) => {
      const answer = await limited.gql<{ createSessionToken: { token: string } }>(
        MINT,
        { subject },
        bearer(TENANTS.alpha),
      );
      return answer.body.data?.createSessionToken.token as string;
    };
    const frank = await token('frank');
    const burst = await Promise.all(Array.from({ length: 6 }, () => generate(limited, frank)));
    expect(burst.filter((each) => each.id !== null)).toHaveLength(2);
    const refused = burst.filter((each) => each.id === null);
    expect(refused).toHaveLength(4);
    for (const each of refused) {
      expect(codeOf(each.errors)).toBe('RATE_LIMITED');
      expect(each.errors[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
    }
    const viewer = await limited.gql<{ viewer: { limits: { maxActive: number } } }>(
      'query { viewer { limits { maxActive active } } }',
      {},
      bearer(frank),
    );
    expect(viewer.body.data?.viewer.limits).toEqual({ maxActive: 2, active: 2 });
    // Another end user of the tenant, and the server key, are not held back by frank's limit.
    expect((await generate(limited, await token('grace'))).id).not.toBeNull();
    expect((await generate(limited, TENANTS.alpha)).id).not.toBeNull();
  });
});
