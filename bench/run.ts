/**
 * `npm run bench`: the gateway against a bare server and the upstream's limits, every figure of
 * issue #16 in one run. Starts its own local engines and gateway processes (each phase a fresh
 * one), runs the eight measurements — rows 2 and 3 on each SSE transport — and writes
 * docs/benchmarks.md. Every figure that has a target is a ratio against a baseline
 * measured side by side in the same run, because this machine is shared and noisy.
 *
 * `BENCH_QUICK=1` shortens everything, for development.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { runBudgetBench } from './budget.js';
import { runClusterBench } from './cluster.js';
import { runFairShareBench } from './fair-share.js';
import { BENCH_DIST, buildGateway } from './lib/gateway-process.js';
import { TRANSPORTS, type Transport } from './lib/sse.js';
import { log, median, quantile } from './lib/stats.js';
import { type BareBroadcastResult, runBareBroadcast } from './phases/bare-broadcast.js';
import { type FanoutPhaseResult, runFanoutPhase } from './phases/fanout.js';
import { type MemoryPhaseResult, runMemoryPhase } from './phases/memory.js';
import { runTransportsPhase, TRANSPORT_BROADCAST_COUNTS } from './phases/transports.js';
import { runUploadPhase, type UploadPhaseResult } from './phases/upload.js';
import { renderReport } from './report.js';

const OFF = { GATEWAY_FAST_PATHS: 'off' };
const quick = process.env.BENCH_QUICK === '1';
/** `BENCH_TRANSPORTS=yoga,single` measures rows 2 and 3 on those transports only (development). */
const transports = (process.env.BENCH_TRANSPORTS?.split(',') ?? TRANSPORTS) as Transport[];
/**
 * `BENCH_ONLY=transports` runs phase 3 alone (rows 2 and 3 per transport) and prints its figures
 * instead of writing docs/benchmarks.md.
 */
const only = process.env.BENCH_ONLY;

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const git = (args: string[]) => {
    try {
      return execFileSync('git', args, { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    nproc: execFileSync('nproc', { encoding: 'utf8' }).trim(),
    cpuModel: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown',
    memoryGiB: (totalmem() / 1024 ** 3).toFixed(1),
    node: process.version,
    commit: git(['rev-parse', '--short', 'HEAD']),
    dirty: git(['status', '--porcelain', '--untracked-files=no']) !== '',
    loadBefore: loadAverage(),
  };
}

const loadAverage = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  const started = Date.now();
  const info = machine();
  log(`machine: ${info.nproc} × ${info.cpuModel}, node ${info.node}, load ${info.loadBefore}`);
  log(`gateway under test: node ${buildGateway().join(' ')}`);
  if (only === 'transports') return transportsOnly();
  const fanoutOptions = {
    subscribers: 1000,
    durationMs: quick ? 10_000 : 20_000,
    queryRoundMs: quick ? 1_000 : 2_000,
    queryRounds: quick ? 2 : 3,
  };
  log('phase 1/8: fan-in, broadcast and queries with the fast paths');
  const fanout: FanoutPhaseResult = await runFanoutPhase(fanoutOptions);
  log('phase 2/8: the same without sharing or the read cache (GATEWAY_FAST_PATHS=off)');
  const fanoutOff: FanoutPhaseResult = await runFanoutPhase({ ...fanoutOptions, env: OFF });
  log(`phase 3/8: memory per idle subscription and broadcast on each transport (${transports.join(', ')})`);
  const bareBroadcast: BareBroadcastResult[] = [];
  for (const subscribers of quick ? [1000] : TRANSPORT_BROADCAST_COUNTS)
    bareBroadcast.push(await runBareBroadcast({ subscribers }));
  const perTransport = await runTransportsPhase({ transports, quick });
  log('phase 4/8: memory per idle subscription without sharing (GATEWAY_FAST_PATHS=off)');
  const memoryOff: MemoryPhaseResult = await runMemoryPhase({ counts: [2000], tasks: 20, env: OFF });
  log('phase 5/8: upload memory');
  const upload: UploadPhaseResult = await runUploadPhase({ clients: 8, fileBytes: 16 * 1024 * 1024 });
  log('phase 6/8: upstream budget (bench/budget.ts)');
  const budget = await runBudgetBench({ tasks: quick ? 20 : 100, qps: 2, print: false });
  log('phase 7/8: cluster — key pool side by side and failover (bench/cluster.ts)');
  const cluster = await runClusterBench({ tasks: quick ? 12 : 24, print: false });
  log('phase 8/8: fair share, a small tenant under a flood (bench/fair-share.ts)');
  const fairShare = await runFairShareBench({ flood: quick ? 20 : 40, qps: 2, print: false });
  const seconds = (Date.now() - started) / 1000;
  const markdown = renderReport({
    machine: { ...info, loadAfter: loadAverage() },
    date: new Date().toISOString(),
    seconds,
    quick,
    fanout,
    fanoutOff,
    transports: perTransport,
    bareBroadcast,
    memoryOff,
    upload,
    budget,
    cluster,
    fairShare,
  });
  writeFileSync(new URL('../docs/benchmarks.md', import.meta.url), markdown);
  log(`wrote docs/benchmarks.md in ${seconds.toFixed(0)} s`);
}

/** Phase 3 alone, printed: memory per idle subscription and broadcast latency per transport. */
async function transportsOnly(): Promise<void> {
  log(
    `phase 3 only: memory per idle subscription and broadcast on each transport (${transports.join(', ')})`,
  );
  for (const result of await runTransportsPhase({ transports, quick })) {
    const memory = result.memory.steps
      .map((step) => `${step.subscriptions}: ${(step.perSubscriptionBytes / 1024).toFixed(1)} KiB`)
      .join('; ');
    const casts = result.broadcast
      .map(
        (c) =>
          `${c.subscribers}: p50 ${median(c.lastMs).toFixed(1)} ms, p99 ${quantile(c.lastMs, 0.99).toFixed(1)} ms, missed ${c.missed}, dropped ${c.dropped}`,
      )
      .join('; ');
    log(`${result.transport}: memory per idle subscription ${memory} | broadcast ${casts}`);
  }
}

main()
  .finally(() => rmSync(BENCH_DIST, { recursive: true, force: true }))
  .then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`bench failed: ${(error as Error).stack ?? error}\n`);
      process.exit(1);
    },
  );
