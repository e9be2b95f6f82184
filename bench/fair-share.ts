/**
 * Fair-share benchmark (#25, not a test): how long a small tenant's one task waits while another
 * tenant's flood holds the key, and what sharing costs the flood. Two runs on a local engine that
 * enforces the QPS strictly, each on a fresh gateway (the test suite's startStack):
 *
 * - alone: tenant A's flood (a `generateBackgrounds` of N uploads, BATCH) to its last SUCCEEDED;
 * - shared: the same flood, and once its first creates went out, tenant B's one generateBackground.
 *
 * Reports B's wait from sending its mutation to the engine accepting its create — in seconds, in
 * charged slots (creates sent meanwhile, B's own included) and in budget slots (every upstream
 * call meanwhile, polls included) — and the flood's total time shared ÷ alone: the policy is
 * work-conserving, so B's few calls are all the flood gives up (≤ 1.05 expected).
 *
 * Run: `npx tsx bench/fair-share.ts [floodSize] [qps]`.
 */
import { pathToFileURL } from 'node:url';
import { batchDone, sendBatch } from '../test/support/batch-ops.js';
import { generateAs } from '../test/support/fair-share-ops.js';
import { transparentPng } from '../test/support/fixtures.js';
import { eventually, startStack, type TestStack } from '../test/support/harness.js';
import type { PicWishDouble } from '../test/support/picwish-double.js';
import { TENANTS, TWO_TENANT_KEYS } from '../test/support/tenancy.js';

export interface FairShareBenchOptions {
  /** Items in tenant A's flood (default 40). */
  readonly flood?: number;
  /** The engine's strict limit and the gateway's PICWISH_QPS (default 2). */
  readonly qps?: number;
  /** Prints the report (default true). */
  readonly print?: boolean;
}

export interface FairShareBenchResult {
  readonly flood: number;
  readonly qps: number;
  /** B's mutation sent → the engine accepted B's create. */
  readonly loneWaitMs: number;
  /** Creates the engine accepted from B's arrival to B's own, B's included. */
  readonly loneWaitChargedSlots: number;
  /** Upstream calls (creates, polls) from B's arrival to B's create, B's included. */
  readonly loneWaitBudgetSlots: number;
  readonly floodAloneMs: number;
  readonly floodSharedMs: number;
  readonly sharedOverAlone: number;
  readonly rateLimited: number;
  readonly succeeded: number;
}

const ENGINE_DURATION_MS = 2_000;

function calls(engine: PicWishDouble): number {
  const stats = engine.stats();
  return stats.createAttempts + stats.polls + stats.segmentationAttempts;
}

async function stackFor(flood: number, qps: number): Promise<TestStack> {
  return startStack({
    engine: { qps, durationMs: ENGINE_DURATION_MS },
    env: {
      PICWISH_QPS: String(qps),
      PICWISH_TIMEOUT_MS: '30000',
      PICWISH_TASK_DEADLINE_MS: String(Math.max(300_000, Math.ceil(((4 * flood) / qps) * 1000))),
      GATEWAY_API_KEYS: TWO_TENANT_KEYS,
      TENANT_RATE_LIMIT_PER_MINUTE: String(Math.max(60, flood * 2)),
      TENANT_MAX_ACTIVE_TASKS: String(Math.max(20, flood * 2)),
    },
  });
}

/** Sends A's flood; resolves with the batch id and when it was sent. */
async function sendFlood(stack: TestStack, png: Buffer, n: number): Promise<{ id: string; started: number }> {
  const started = Date.now();
  const items = Array.from({ length: n }, (_, i) => ({ file: png, background: { prompt: `flood ${i}` } }));
  const answer = await sendBatch(stack, items, { tenant: TENANTS.alpha });
  const batch = answer.data?.generateBackgrounds.batch;
  if (!batch || batch.counts.accepted !== n) throw new Error(`flood not accepted: ${JSON.stringify(answer)}`);
  return { id: batch.id, started };
}

export async function runFairShareBench(options: FairShareBenchOptions = {}): Promise<FairShareBenchResult> {
  const n = options.flood ?? 40;
  const qps = options.qps ?? 2;
  const png = await transparentPng(400, 300);

  const alone = await stackFor(n, qps);
  let floodAloneMs: number;
  let succeeded = 0;
  let rateLimited = 0;
  try {
    const flood = await sendFlood(alone, png, n);
    const done = await batchDone(alone, flood.id, TENANTS.alpha);
    floodAloneMs = Date.now() - flood.started;
    succeeded += done.counts.succeeded;
    rateLimited += alone.engine.stats().rateLimited;
  } finally {
    await alone.close();
  }

  const shared = await stackFor(n, qps);
  try {
    const flood = await sendFlood(shared, png, n);
    const { engine } = shared;
    await eventually(async () => (engine.stats().creates >= 3 ? true : undefined), 60_000, 10);
    const arrived = { at: Date.now(), creates: engine.stats().creates, calls: calls(engine) };
    const lone = await generateAs(shared, TENANTS.beta, 'the small tenant', png);
    const sent = await eventually(
      async () => {
        const index = engine
          .stats()
          .creates_log.findIndex((entry) => entry.fields.prompt === 'the small tenant');
        return index >= 0 ? { at: Date.now(), index, calls: calls(engine) } : undefined;
      },
      120_000,
      5,
    );
    const done = await batchDone(shared, flood.id, TENANTS.alpha);
    const floodSharedMs = Date.now() - flood.started;
    succeeded += done.counts.succeeded;
    await eventually(async () => {
      const task = await shared.gql<{ backgroundTask: { state: string } }>(
        'query($id: ID!) { backgroundTask(id: $id) { state } }',
        { id: lone.id },
        { authorization: `Bearer ${TENANTS.beta}` },
      );
      return task.body.data?.backgroundTask.state === 'SUCCEEDED' ? true : undefined;
    }, 60_000);
    succeeded += 1;
    rateLimited += engine.stats().rateLimited;
    const result: FairShareBenchResult = {
      flood: n,
      qps,
      loneWaitMs: sent.at - arrived.at,
      loneWaitChargedSlots: sent.index - arrived.creates + 1,
      loneWaitBudgetSlots: sent.calls - arrived.calls,
      floodAloneMs,
      floodSharedMs,
      sharedOverAlone: floodSharedMs / floodAloneMs,
      rateLimited,
      succeeded,
    };
    if (options.print ?? true) printReport(result);
    return result;
  } finally {
    await shared.close();
  }
}

function printReport(r: FairShareBenchResult): void {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  console.log(
    [
      `fair-share bench: tenant A floods ${r.flood} BATCH tasks, tenant B sends 1, ${r.qps} QPS (engine strict)`,
      `  B's wait                  ${s(r.loneWaitMs)}: ${r.loneWaitChargedSlots} charged slots, ${r.loneWaitBudgetSlots} budget slots`,
      `  A's flood                 alone ${s(r.floodAloneMs)}, shared ${s(r.floodSharedMs)} (×${r.sharedOverAlone.toFixed(3)})`,
      `  succeeded                 ${r.succeeded}/${2 * r.flood + 1}`,
      `  429s                      ${r.rateLimited}`,
    ].join('\n'),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [flood, qps] = process.argv.slice(2).map(Number);
  runFairShareBench({ ...(flood ? { flood } : {}), ...(qps ? { qps } : {}) }).then(
    (result) => process.exit(result.rateLimited === 0 && result.succeeded === 2 * result.flood + 1 ? 0 : 1),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
