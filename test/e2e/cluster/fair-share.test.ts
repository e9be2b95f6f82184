import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchDone, sendBatch } from '../../support/batch-ops.js';
import { type ClusterRig, type GatewayProcess, startClusterRig } from '../../support/cluster.js';
import { generateAs, readAs, upstreamCreateOf } from '../../support/fair-share-ops.js';
import { transparentPng } from '../../support/fixtures.js';
import { eventually } from '../../support/harness.js';
import { TENANTS, TWO_TENANT_KEYS } from '../../support/tenancy.js';

/**
 * Issue #25 on a two-instance PostgreSQL cluster at a strict 2 QPS: tenants A and B create on
 * different instances, the key's elected scheduler sends fairly, and both instances answer
 * `queuePosition` from the order it published (whichever of them leads). A burst of parallel
 * creates on both instances never takes a tenant past its daily credit cap.
 */
const GAMMA = 'gamma-key-5c1e9b7d3a2f4e6c8b0d';
let rig: ClusterRig;
let one: GatewayProcess;
let two: GatewayProcess;

beforeAll(async () => {
  rig = await startClusterRig({
    name: 'fair-share',
    engine: { qps: 2, durationMs: 1_000 },
    env: {
      GATEWAY_API_KEYS: `${TWO_TENANT_KEYS},gamma:${GAMMA}`,
      // Only gamma is capped: 30 credits, ten one-image tasks at 3 credits.
      TENANT_DAILY_CREDITS: 'gamma:30',
      TENANT_MAX_ACTIVE_TASKS: '100',
      TENANT_RATE_LIMIT_PER_MINUTE: '1000',
    },
  });
  one = await rig.start('one');
  two = await rig.start('two');
}, 120_000);

afterAll(() => rig?.close(), 60_000);

describe('fair share on a PostgreSQL cluster (#25)', () => {
  it("B's task made on another instance than A's 40-item batch is sent within 6 s; both instances place B's batch items among A's by the policy; every task succeeds once, no 429", async () => {
    const png = await transparentPng(400, 300);
    const items = Array.from({ length: 40 }, (_, i) => ({ file: png, background: { prompt: `flood ${i}` } }));
    const flood = await sendBatch(one, items, { tenant: TENANTS.alpha });
    expect(flood.data?.generateBackgrounds.batch.counts.accepted).toBe(40);
    const floodBatch = flood.data?.generateBackgrounds.batch.id as string;
    const lastOfFlood = flood.data?.generateBackgrounds.results[39]?.task?.id as string;
    await eventually(async () => (rig.engine.stats().creates >= 3 ? true : undefined), 30_000, 20);

    // From the mutation's answer: before it, the upload is still being checked and copied to the
    // bucket, and A's flood rightly goes on meanwhile.
    const lone = await generateAs(two, TENANTS.beta, 'the lone task of beta', png);
    const arrived = Date.now();
    const sentBefore = rig.engine.stats().creates;
    const loneSent = await upstreamCreateOf(rig.engine, 'the lone task of beta');
    console.log(
      `fair share (cluster): B sent ${((loneSent.at - arrived) / 1000).toFixed(2)} s after arriving, ${loneSent.index - sentBefore + 1} creates later`,
    );
    expect(loneSent.at - arrived).toBeLessThanOrEqual(6_000);
    // At most the create already granted and one more go first: the leader hears of B over PostgreSQL.
    expect(loneSent.index - sentBefore).toBeLessThanOrEqual(2);

    // B's batch, made on the other instance: its items share the key with A's evenly, so its
    // last item stands near 2 × 10 in the published order, not behind the rest of A's flood.
    const small = await sendBatch(
      two,
      Array.from({ length: 10 }, (_, i) => ({ file: png, background: { prompt: `small ${i}` } })),
      { tenant: TENANTS.beta },
    );
    const smallBatch = small.data?.generateBackgrounds.batch.id as string;
    const lastOfSmall = small.data?.generateBackgrounds.results[9]?.task?.id as string;
    for (const gateway of [one, two]) {
      const seen = await eventually(async () => {
        const [b, a] = [
          await readAs(gateway, TENANTS.beta, lastOfSmall),
          await readAs(gateway, TENANTS.alpha, lastOfFlood),
        ];
        return b.queuePosition !== null && b.queuePosition <= 21 && (a.queuePosition ?? 0) > b.queuePosition
          ? { b, a }
          : undefined;
      }, 10_000);
      console.log(
        `fair share (cluster): on ${gateway.name}, B's last item at ${seen.b.queuePosition}, A's last at ${seen.a.queuePosition}`,
      );
    }

    const done = await Promise.all([
      // 51 creates and as many polls at 2 QPS: a minute on a quiet machine, more on a loaded one.
      batchDone(one, floodBatch, TENANTS.alpha, 240_000),
      batchDone(two, smallBatch, TENANTS.beta, 240_000),
    ]);
    expect(done.map((batch) => batch.counts.succeeded)).toEqual([40, 10]);
    expect((await readAs(one, TENANTS.beta, lone.id)).state).toBe('SUCCEEDED');
    const stats = rig.engine.stats();
    expect(stats.rateLimited).toBe(0);
    expect(stats.creates).toBe(51);
    expect(stats.createAttempts).toBe(51);
  }, 400_000);

  it('a burst of parallel creates on both instances never overshoots a daily credit cap', async () => {
    const png = await transparentPng(400, 300);
    const burst = await Promise.allSettled(
      Array.from({ length: 24 }, (_, i) => generateAs(i % 2 === 0 ? one : two, GAMMA, `capped ${i}`, png)),
    );
    const accepted = burst.filter((each) => each.status === 'fulfilled');
    expect(accepted).toHaveLength(10);
    for (const refused of burst.filter((each) => each.status === 'rejected')) {
      expect(String((refused as PromiseRejectedResult).reason)).toContain('QUOTA_EXCEEDED');
    }
  }, 120_000);
});
