/**
 * Budget benchmark (not a test): drives N tasks (100 by default) through a local engine that
 * enforces PicWish's 2-QPS limit strictly, with the gateway configured for the same budget, each
 * task watched by one SSE subscriber. Reports what the budget is spent on and how long clients
 * wait:
 *
 * - 429s the engine answered (should be 0),
 * - creates and polls per task,
 * - time from upstream completion to the subscriber seeing SUCCEEDED (median, p95),
 * - total time ÷ the budget's lower bound (every task needs one create and at least one poll, so
 *   N tasks need at least 2N calls: 2N / qps seconds, and never less than the last create plus
 *   one task duration).
 *
 * Run: `npx tsx bench/budget.ts [tasks] [qps] [engineDurationMs]`. Self-contained: it starts its
 * own engine and gateway (the test suite's startStack) on loopback and a throwaway DATA_DIR.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { generateUpload, transparentPng } from '../test/support/fixtures.js';
import { startStack, uploadOperation } from '../test/support/harness.js';
import { sseEvents } from '../test/support/sse.js';

export interface BudgetBenchOptions {
  /** Tasks created at once (default 100). */
  readonly tasks?: number;
  /** The engine's strict limit and the gateway's PICWISH_QPS (default 2). */
  readonly qps?: number;
  /** How long the engine takes per task (default 4000 ms, the local engine's default). */
  readonly engineDurationMs?: number;
  /** Prints the report (default true). */
  readonly print?: boolean;
}

export interface BudgetBenchResult {
  readonly tasks: number;
  readonly qps: number;
  readonly engineDurationMs: number;
  readonly succeeded: number;
  readonly rateLimited: number;
  readonly createsPerTask: number;
  readonly pollsPerTask: number;
  readonly maxPollsPerTask: number;
  /** Upstream completion → subscriber sees SUCCEEDED, in ms. */
  readonly completionToSeenMs: { readonly median: number; readonly p95: number; readonly max: number };
  /** Creation → subscriber sees SUCCEEDED, in ms. */
  readonly endToEndMs: { readonly median: number; readonly p95: number };
  readonly totalMs: number;
  readonly lowerBoundMs: number;
  readonly totalOverLowerBound: number;
}

const WATCH = `subscription($id: ID!) { backgroundTaskUpdated(id: $id) { id state } }`;

async function create(url: string, png: Buffer, prompt: string): Promise<string> {
  const { body } = await uploadOperation(
    url,
    generateUpload('id'),
    { file: null, prompt },
    { variablePath: 'variables.file', bytes: png, name: 'fg.png' },
  );
  const id = (body.data?.generateBackground as { id?: string } | undefined)?.id;
  if (!id) throw new Error(`generateBackground failed: ${JSON.stringify(body.errors)}`);
  return id;
}

/** Subscribes over SSE; resolves with the final state and when it arrived. */
async function watch(url: string, id: string): Promise<{ state: string; at: number }> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { accept: 'text/event-stream', 'content-type': 'application/json' },
    body: JSON.stringify({ query: WATCH, variables: { id } }),
  });
  if (!response.body) throw new Error('no SSE body');
  let last = { state: 'UNKNOWN', at: Date.now() };
  for await (const { event, data } of sseEvents(response)) {
    if (event !== 'next' || !data) continue;
    const state = (JSON.parse(data) as { data?: { backgroundTaskUpdated?: { state: string } } }).data
      ?.backgroundTaskUpdated?.state;
    if (state) last = { state, at: Date.now() };
  }
  return last;
}

function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

export async function runBudgetBench(options: BudgetBenchOptions = {}): Promise<BudgetBenchResult> {
  const n = options.tasks ?? 100;
  const qps = options.qps ?? 2;
  const durationMs = options.engineDurationMs ?? 4_000;
  // The test suite's stack: the gateway in process, its outbound fetches kept on loopback.
  const stack = await startStack({
    engine: { qps, durationMs, maxConcurrentRenders: 2 },
    env: {
      PICWISH_QPS: String(qps),
      PICWISH_TIMEOUT_MS: '30000',
      PICWISH_TASK_DEADLINE_MS: String(Math.max(300_000, Math.ceil(((4 * n) / qps) * 1000))),
      TENANT_RATE_LIMIT_PER_MINUTE: String(Math.max(60, n * 2)),
      TENANT_MAX_ACTIVE_TASKS: String(Math.max(20, n * 2)),
    },
  });
  const { engine, dataDir } = stack;
  const gateway = stack.gateway;
  try {
    const png = await transparentPng(400, 300);
    const started = Date.now();
    const ids = await Promise.all(
      Array.from({ length: n }, (_, i) => create(gateway.url, png, `bench ${i}`)),
    );
    const seen = await Promise.all(ids.map((id) => watch(gateway.url, id)));
    const totalMs = Date.now() - started;

    const db = new Database(join(dataDir, 'tasks.db'), { readonly: true });
    const docs = new Map<
      string,
      {
        createdAt: number;
        submittedAt: number | null;
        completedAt: number | null;
        upstreamTaskId: string | null;
      }
    >();
    for (const row of db.prepare('SELECT id, doc FROM tasks').all() as { id: string; doc: string }[]) {
      docs.set(row.id, JSON.parse(row.doc));
    }
    db.close();

    const stats = engine.stats();
    const completionToSeen: number[] = [];
    const endToEnd: number[] = [];
    const polls: number[] = [];
    ids.forEach((id, i) => {
      const doc = docs.get(id);
      const saw = seen[i] as { state: string; at: number };
      if (!doc || saw.state !== 'SUCCEEDED' || doc.submittedAt === null) return;
      // PicWish reports completed_at in whole seconds; the engine finishes `durationMs` after the
      // create at the earliest, so the later of the two is the best estimate of completion.
      const completion = Math.max(doc.submittedAt + durationMs, doc.completedAt ?? 0);
      completionToSeen.push(Math.max(0, saw.at - completion));
      endToEnd.push(saw.at - doc.createdAt);
      polls.push(stats.pollsByTask[doc.upstreamTaskId ?? ''] ?? 0);
    });
    const succeeded = seen.filter((s) => s.state === 'SUCCEEDED').length;
    const lowerBoundMs = Math.max(((2 * n) / qps) * 1000, ((n - 1) / qps) * 1000 + durationMs + 1000 / qps);
    const result: BudgetBenchResult = {
      tasks: n,
      qps,
      engineDurationMs: durationMs,
      succeeded,
      rateLimited: stats.rateLimited,
      createsPerTask: stats.createAttempts / n,
      pollsPerTask: polls.reduce((a, b) => a + b, 0) / Math.max(1, polls.length),
      maxPollsPerTask: Math.max(0, ...polls),
      completionToSeenMs: {
        median: quantile(completionToSeen, 0.5),
        p95: quantile(completionToSeen, 0.95),
        max: Math.max(0, ...completionToSeen),
      },
      endToEndMs: { median: quantile(endToEnd, 0.5), p95: quantile(endToEnd, 0.95) },
      totalMs,
      lowerBoundMs,
      totalOverLowerBound: totalMs / lowerBoundMs,
    };
    if (options.print ?? true) printReport(result);
    return result;
  } finally {
    await stack.close();
  }
}

function printReport(r: BudgetBenchResult): void {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  console.log(
    [
      `budget bench: ${r.tasks} tasks, ${r.qps} QPS (engine strict), engine duration ${s(r.engineDurationMs)}`,
      `  succeeded                 ${r.succeeded}/${r.tasks}`,
      `  429s                      ${r.rateLimited}`,
      `  creates per task          ${r.createsPerTask.toFixed(2)}`,
      `  polls per task            ${r.pollsPerTask.toFixed(2)} (max ${r.maxPollsPerTask})`,
      `  completion → SUCCEEDED    median ${s(r.completionToSeenMs.median)}, p95 ${s(r.completionToSeenMs.p95)}, max ${s(r.completionToSeenMs.max)}`,
      `  created → SUCCEEDED       median ${s(r.endToEndMs.median)}, p95 ${s(r.endToEndMs.p95)}`,
      `  total                     ${s(r.totalMs)} vs lower bound ${s(r.lowerBoundMs)} (×${r.totalOverLowerBound.toFixed(2)})`,
    ].join('\n'),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [tasks, qps, duration] = process.argv.slice(2).map(Number);
  runBudgetBench({
    ...(tasks ? { tasks } : {}),
    ...(qps ? { qps } : {}),
    ...(duration ? { engineDurationMs: duration } : {}),
  }).then(
    (result) => process.exit(result.rateLimited === 0 && result.succeeded === result.tasks ? 0 : 1),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
