import { describe, expect } from 'vitest';
import { startStack, type TestStack } from '../support/harness.js';
import { createTestDatabase } from '../support/pg-db.js';
import { stackTest } from '../support/stack-test.js';
import { bearer, generate, mustGenerate, TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';
import { CANCEL } from './tenant-operations.js';

/** Per-tenant limits (TENANT_MAX_ACTIVE_TASKS, TENANT_RATE_LIMIT_PER_MINUTE) refuse with RATE_LIMITED, per tenant and per cluster. */

const gamma = 'gamma-key-5a7c9e1b3d5f7a9c1e3b';
const delta = 'delta-key-8c0e2a4c6e8a0c2e4a6c';

const it = stackTest({
  engine: { durationMs: 60_000 },
  env: {
    GATEWAY_API_KEYS: `${TWO_TENANT_KEYS},gamma:${gamma},delta:${delta}`,
    TENANT_RATE_LIMIT_PER_MINUTE: '3',
    TENANT_MAX_ACTIVE_TASKS: '2',
  },
});

describe('per-tenant limits', () => {
  it('refuses a task over TENANT_MAX_ACTIVE_TASKS with RATE_LIMITED and retryAfterSeconds, for that tenant only', async ({
    stack,
  }) => {
    const first = await mustGenerate(stack, TENANTS.alpha);
    await mustGenerate(stack, TENANTS.alpha);
    const refused = await generate(stack, TENANTS.alpha);
    expect(refused.id).toBeNull();
    expect(refused.errors[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(refused.errors[0]?.message).toMatch(/unfinished/);
    expect(refused.errors[0]?.extensions?.retryAfterSeconds).toEqual(expect.any(Number));
    expect(refused.errors[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);

    // Another tenant is not affected.
    expect((await generate(stack, TENANTS.beta)).id).not.toBeNull();

    // Finishing one (here: cancelling it) frees a place.
    await stack.gql(CANCEL, { id: first }, bearer(TENANTS.alpha));
    expect((await generate(stack, TENANTS.alpha)).id).not.toBeNull();
  });

  it('refuses a task over TENANT_RATE_LIMIT_PER_MINUTE with RATE_LIMITED and a retryAfterSeconds within the minute', async ({
    stack,
  }) => {
    for (let i = 0; i < 3; i++) {
      const id = await mustGenerate(stack, gamma);
      // Cancelled at once, so only the per-minute limit can refuse the next one.
      await stack.gql(CANCEL, { id }, bearer(gamma));
    }
    const refused = await generate(stack, gamma);
    expect(refused.id).toBeNull();
    const error = refused.errors[0];
    expect(error?.extensions?.code).toBe('RATE_LIMITED');
    expect(error?.message).toMatch(/per minute/);
    const retry = error?.extensions?.retryAfterSeconds as number;
    expect(Number.isInteger(retry)).toBe(true);
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
  });

  it('holds both limits against a burst of parallel requests, not only against sequential ones', async ({
    stack,
  }) => {
    const burst = await Promise.all(Array.from({ length: 8 }, () => generate(stack, delta)));
    const created = burst.filter((answer) => answer.id !== null);
    // At most 2 unfinished at once (and at most 3 per minute): a burst must not slip past either.
    expect(created).toHaveLength(2);
    for (const refused of burst.filter((answer) => answer.id === null)) {
      expect(refused.errors[0]?.extensions?.code).toBe('RATE_LIMITED');
    }
  });

  it('does not count idempotent replays against the per-minute limit', async ({ stack }) => {
    // beta created one task in the first test; this is its second.
    const id = await mustGenerate(stack, TENANTS.beta, 'replay-me');
    await stack.gql(CANCEL, { id }, bearer(TENANTS.beta));
    for (let i = 0; i < 3; i++) expect(await mustGenerate(stack, TENANTS.beta, 'replay-me')).toBe(id);
    // The replays created nothing, so the third task of the minute is still allowed...
    const third = await mustGenerate(stack, TENANTS.beta);
    await stack.gql(CANCEL, { id: third }, bearer(TENANTS.beta));
    // ...and the fourth is not.
    expect((await generate(stack, TENANTS.beta)).errors[0]?.extensions?.code).toBe('RATE_LIMITED');
    // Even over the limit, a replay still answers with the task it made (a client retrying after
    // a lost answer must get its task, not a refusal).
    expect(await mustGenerate(stack, TENANTS.beta, 'replay-me')).toBe(id);
  });
});

describe('per-tenant limits across several gateway processes (DATABASE_URL)', () => {
  // Two gateway processes on one database, started here and closed whatever the outcome.
  it('counts TENANT_RATE_LIMIT_PER_MINUTE for the whole cluster, not per process', async () => {
    const database = await createTestDatabase();
    const stacks: TestStack[] = [];
    try {
      const env = {
        GATEWAY_API_KEYS: TWO_TENANT_KEYS,
        DATABASE_URL: database.url,
        TENANT_RATE_LIMIT_PER_MINUTE: '3',
        TENANT_MAX_ACTIVE_TASKS: '100',
      };
      stacks.push(await startStack({ engine: { durationMs: 60_000 }, env }));
      stacks.push(await startStack({ engine: { durationMs: 60_000 }, env }));
      const [a, b] = stacks as [TestStack, TestStack];
      await mustGenerate(a, TENANTS.alpha);
      await mustGenerate(b, TENANTS.alpha);
      await mustGenerate(a, TENANTS.alpha);
      const refused = await generate(b, TENANTS.alpha);
      expect(refused.id).toBeNull();
      expect(refused.errors[0]?.extensions?.code).toBe('RATE_LIMITED');
      expect(refused.errors[0]?.extensions?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      // Another tenant has its own window.
      expect((await generate(b, TENANTS.beta)).id).not.toBeNull();
    } finally {
      for (const stack of stacks) await stack.close();
      await database.drop();
    }
  });
});
