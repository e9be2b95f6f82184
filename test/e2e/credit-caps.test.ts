import { describe, expect } from 'vitest';
import { sendBatch } from '../support/batch-ops.js';
import { transparentPng } from '../support/fixtures.js';
import { eventually, type GraphQLErrorShape, type TestStack } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import { bearer, generate, mustGenerate, TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';

/**
 * Daily credit caps (#25): TENANT_DAILY_CREDITS and SUBJECT_DAILY_CREDITS refuse a task before
 * anything is created or sent (QUOTA_EXCEEDED with when the day ends), `viewer.limits` shows what
 * is left, and a task that ends without being charged gives its reservation back.
 */

const SESSION_SECRET = 'session-secret-for-tests-0123456789abcdef';
const CREDITS = 'query { viewer { limits { creditsPerDay creditsRemainingToday creditsResetAt } } }';
const MINT = `mutation Mint($subject: String!) { createSessionToken(input: { subject: $subject }) { token } }`;
const CANCEL = 'mutation Cancel($id: ID!) { cancelBackgroundTask(id: $id) { state creditsCharged } }';
const COUNT = 'query { backgroundTasks(first: 1) { totalCount } }';

interface CreditView {
  creditsPerDay: number | null;
  creditsRemainingToday: number | null;
  creditsResetAt: string;
}

const it = stackTest({
  // Tasks run long, so the reservations stay reservations while the test looks at them.
  engine: { durationMs: 60_000 },
  env: {
    GATEWAY_API_KEYS: TWO_TENANT_KEYS,
    // One image costs 3 credits (PICWISH_CREDITS_PER_IMAGE): alpha may create three.
    TENANT_DAILY_CREDITS: 'alpha:9',
    SUBJECT_DAILY_CREDITS: '3',
    SESSION_TOKEN_SECRET: SESSION_SECRET,
  },
});

async function credits(stack: TestStack, token: string): Promise<CreditView> {
  const answer = await stack.gql<{ viewer: { limits: CreditView } }>(CREDITS, {}, bearer(token));
  if (!answer.body.data) throw new Error(JSON.stringify(answer.body));
  return answer.body.data.viewer.limits;
}

async function mint(stack: TestStack, subject: string): Promise<string> {
  const minted = await stack.gql<{ createSessionToken: { token: string } }>(
    MINT,
    { subject },
    bearer(TENANTS.beta),
  );
  const token = minted.body.data?.createSessionToken.token;
  if (!token) throw new Error(JSON.stringify(minted.body));
  return token;
}

function nextUtcMidnight(): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)).toISOString();
}

function expectQuotaExceeded(errors: readonly GraphQLErrorShape[]): void {
  expect(errors).toHaveLength(1);
  const [error] = errors;
  expect(error?.message).toMatch(/PicWish credits a day \(UTC\)/);
  expect(error?.extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', resetsAt: nextUtcMidnight() });
  expect(error?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
  expect(error?.extensions?.retryAfterSeconds).toBeLessThanOrEqual(24 * 60 * 60);
}

describe('daily credit caps', () => {
  it('reserves each task’s estimate, refuses the one that would pass the cap before sending anything, and gives back what a cancelled task did not spend', async ({
    stack,
  }) => {
    expect(await credits(stack, TENANTS.alpha)).toEqual({
      creditsPerDay: 9,
      creditsRemainingToday: 9,
      creditsResetAt: nextUtcMidnight(),
    });
    const ids = [
      await mustGenerate(stack, TENANTS.alpha),
      await mustGenerate(stack, TENANTS.alpha),
      await mustGenerate(stack, TENANTS.alpha),
    ];
    expect(await credits(stack, TENANTS.alpha)).toMatchObject({ creditsRemainingToday: 0 });

    const refused = await generate(stack, TENANTS.alpha);
    expect(refused.status).toBe(200);
    expect(refused.id).toBeNull();
    expectQuotaExceeded(refused.errors);

    // Nothing was created for it, and PicWish only ever sees the three accepted tasks.
    const count = await stack.gql<{ backgroundTasks: { totalCount: number } }>(
      COUNT,
      {},
      bearer(TENANTS.alpha),
    );
    expect(count.body.data?.backgroundTasks.totalCount).toBe(3);
    await eventually(async () => (stack.engine.stats().creates === 3 ? true : undefined), 30_000);

    // A cancelled task was charged nothing: its 3 credits are free again.
    const cancelled = await stack.gql<{ cancelBackgroundTask: { state: string; creditsCharged: number } }>(
      CANCEL,
      { id: ids[0] },
      bearer(TENANTS.alpha),
    );
    expect(cancelled.body.data?.cancelBackgroundTask).toEqual({ state: 'CANCELLED', creditsCharged: 0 });
    expect(await credits(stack, TENANTS.alpha)).toMatchObject({ creditsRemainingToday: 3 });
    await mustGenerate(stack, TENANTS.alpha);
    expectQuotaExceeded((await generate(stack, TENANTS.alpha)).errors);
    expect(stack.engine.stats().creates).toBeLessThanOrEqual(4);

    // Another tenant is not capped by alpha's spending.
    expect(await credits(stack, TENANTS.beta)).toMatchObject({
      creditsPerDay: null,
      creditsRemainingToday: null,
    });
    await mustGenerate(stack, TENANTS.beta);
  });

  it('refuses each batch item past the cap with its own QUOTA_EXCEEDED and when to retry', async ({
    stack,
  }) => {
    const png = await transparentPng(400, 300);
    const answer = await sendBatch(stack, [{ file: png }, { file: png }], { tenant: TENANTS.alpha });
    expect(answer.errors).toBeUndefined();
    const results = answer.data?.generateBackgrounds.results ?? [];
    expect(results).toHaveLength(2);
    for (const item of results) {
      expect(item.task).toBeNull();
      expect(item.problems).toEqual([
        expect.objectContaining({ code: 'QUOTA_EXCEEDED', retryAfterSeconds: expect.any(Number) }),
      ]);
    }
  });

  it('caps each end user on its own, inside its tenant’s cap, and tells the session what is left', async ({
    stack,
  }) => {
    const token = await mint(stack, 'bob');
    expect(await credits(stack, token)).toMatchObject({ creditsPerDay: 3, creditsRemainingToday: 3 });
    await mustGenerate(stack, token);
    expectQuotaExceeded((await generate(stack, token)).errors);
    expect(await credits(stack, token)).toMatchObject({ creditsPerDay: 3, creditsRemainingToday: 0 });

    // Another user of the same tenant has credits of its own.
    await mustGenerate(stack, await mint(stack, 'carol'));
  });
});
