import { describe, expect } from 'vitest';
import { batchDone, sendBatch } from '../support/batch-ops.js';
import { generateAs, readAs, upstreamCreateOf } from '../support/fair-share-ops.js';
import { transparentPng } from '../support/fixtures.js';
import { eventually } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import { bearer, TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';

// One gateway per test, each with its own settings: two tenants at a strict 2 QPS whose own
// limits never bind, so only the fair share decides who waits.
const STRICT_BUDGET = {
  PICWISH_QPS: '2',
  GATEWAY_API_KEYS: TWO_TENANT_KEYS,
  TENANT_MAX_ACTIVE_TASKS: '100',
  TENANT_RATE_LIMIT_PER_MINUTE: '1000',
};
const itTwoTenants = stackTest({ engine: { qps: 2, durationMs: 1_000 }, env: STRICT_BUDGET }, 'test');
const itEndUsers = stackTest(
  {
    engine: { qps: 2, durationMs: 500 },
    env: {
      ...STRICT_BUDGET,
      SESSION_TOKEN_SECRET: 'session-secret-for-fair-share-0123456789',
      SUBJECT_MAX_ACTIVE_TASKS: '100',
      SUBJECT_RATE_LIMIT_PER_MINUTE: '1000',
    },
  },
  'test',
);

/**
 * Issue #25 against the local engine at a strict 2 QPS (429 beyond): one tenant's 40-item batch
 * does not make another tenant's single task — nor the same tenant's own INTERACTIVE task — wait
 * behind all of it, and nothing is sent twice or over the budget.
 */
describe('fair share of a 2 QPS key (#25)', () => {
  itTwoTenants(
    "tenant B's single task is sent within 6 s of arriving behind tenant A's 40-item batch, and A's own INTERACTIVE task overtakes its batch; every task succeeds once, no 429",
    async ({ stack: s }) => {
      const png = await transparentPng(400, 300);
      const items = Array.from({ length: 40 }, (_, i) => ({
        file: png,
        background: { prompt: `flood ${i}` },
      }));
      const flood = await sendBatch(s, items, { tenant: TENANTS.alpha });
      const batch = flood.data?.generateBackgrounds.batch;
      expect(batch?.counts.accepted).toBe(40);
      const lastOfFlood = flood.data?.generateBackgrounds.results[39]?.task?.id as string;
      // A's flood is being sent when B arrives.
      await eventually(async () => (s.engine.stats().creates >= 3 ? true : undefined), 30_000, 20);
      expect((await readAs(s, TENANTS.alpha, lastOfFlood)).priority).toBe('BATCH');

      const arrived = Date.now();
      const sentBefore = s.engine.stats().creates;
      const lone = await generateAs(s, TENANTS.beta, 'the lone task of beta', png);
      expect(lone.priority).toBe('INTERACTIVE');
      expect(lone.queuePosition).toBeLessThanOrEqual(2);
      const loneSent = await upstreamCreateOf(s.engine, 'the lone task of beta');
      console.log(
        `fair share: B sent ${((loneSent.at - arrived) / 1000).toFixed(2)} s after arriving, ${loneSent.index - sentBefore + 1} creates later`,
      );
      expect(loneSent.at - arrived).toBeLessThanOrEqual(6_000);
      expect(loneSent.index - sentBefore).toBeLessThanOrEqual(2);

      // A's own INTERACTIVE task goes before the rest of A's batch, while B has nothing waiting.
      const urgentArrived = Date.now();
      const urgentBefore = s.engine.stats().creates;
      const urgent = await generateAs(s, TENANTS.alpha, 'alpha is waiting for this one', png);
      expect(urgent.queuePosition).toBe(1);
      const urgentSent = await upstreamCreateOf(s.engine, 'alpha is waiting for this one');
      expect(urgentSent.at - urgentArrived).toBeLessThanOrEqual(6_000);
      expect(urgentSent.index - urgentBefore).toBeLessThanOrEqual(1);
      expect((await readAs(s, TENANTS.alpha, lastOfFlood)).state).toBe('QUEUED');

      // 42 creates and as many polls at 2 QPS: under a minute on a quiet machine, more on a loaded one.
      const done = await batchDone(s, batch?.id as string, TENANTS.alpha, 240_000);
      expect(done.counts.succeeded).toBe(40);
      const singles = await eventually(async () => {
        const both = [await readAs(s, TENANTS.beta, lone.id), await readAs(s, TENANTS.alpha, urgent.id)];
        return both.every((task) => task.state === 'SUCCEEDED') ? both : undefined;
      }, 60_000);
      expect(singles).toHaveLength(2);
      const stats = s.engine.stats();
      expect(stats.rateLimited).toBe(0);
      expect(stats.creates).toBe(42);
      expect(stats.createAttempts).toBe(42);
    },
    360_000,
  );

  itEndUsers(
    "one end user's task is sent within 2 creates of arriving behind another end user's batch of the same tenant (#23 subjects)",
    async ({ stack: s }) => {
      const mint = async (subject: string) => {
        const answer = await s.gql<{ createSessionToken: { token: string } }>(
          'mutation($subject: String!) { createSessionToken(input: { subject: $subject }) { token } }',
          { subject },
          bearer(TENANTS.alpha),
        );
        const token = answer.body.data?.createSessionToken.token;
        if (!token) throw new Error(JSON.stringify(answer.body));
        return token;
      };
      const [alice, bob] = [await mint('alice'), await mint('bob')];
      const png = await transparentPng(400, 300);
      const items = Array.from({ length: 20 }, (_, i) => ({
        file: png,
        background: { prompt: `alice ${i}` },
      }));
      const flood = await sendBatch(s, items, { tenant: alice });
      const batch = flood.data?.generateBackgrounds.batch;
      expect(batch?.counts.accepted).toBe(20);
      await eventually(async () => (s.engine.stats().creates >= 3 ? true : undefined), 30_000, 20);

      // BATCH like alice's items, so only being another end user's flow can put it ahead.
      const bobs = await sendBatch(s, [{ file: png, background: { prompt: 'bob waits for this one' } }], {
        tenant: bob,
      });
      const lone = bobs.data?.generateBackgrounds.results[0]?.task?.id as string;
      expect((await readAs(s, bob, lone)).priority).toBe('BATCH');
      const arrived = Date.now();
      const sentBefore = s.engine.stats().creates;
      const sent = await upstreamCreateOf(s.engine, 'bob waits for this one');
      expect(sent.at - arrived).toBeLessThanOrEqual(6_000);
      expect(sent.index - sentBefore).toBeLessThanOrEqual(2);

      const done = await batchDone(s, batch?.id as string, alice, 240_000);
      expect(done.counts.succeeded).toBe(20);
      await eventually(
        async () => ((await readAs(s, bob, lone)).state === 'SUCCEEDED' ? true : undefined),
        60_000,
      );
      expect(s.engine.stats().rateLimited).toBe(0);
      expect(s.engine.stats().createAttempts).toBe(21);
    },
    360_000,
  );
});
