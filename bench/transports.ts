/**
 * `npx tsx bench/transports.ts`: rows 2 and 3 of the benchmark (memory per idle subscription,
 * broadcast latency) on each SSE transport — Yoga's SSE, graphql-sse distinct connections and
 * single-connection mode — at 1000/2000 and 10000 subscribers, each phase on a fresh gateway
 * process. Prints a Markdown table for docs/benchmarks.md and writes the raw figures to
 * `.bench-transports.json`. `BENCH_TRANSPORTS=yoga,single` picks transports; `BENCH_SMOKE=1`
 * runs tiny counts to check the harness.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { BENCH_DIST, buildGateway } from './lib/gateway-process.js';
import { TRANSPORTS, type Transport } from './lib/sse.js';
import { log, median, quantile, round } from './lib/stats.js';
import { type BroadcastResult, runFanoutPhase } from './phases/fanout.js';
import { type MemoryPhaseResult, runMemoryPhase } from './phases/memory.js';

const smoke = process.env.BENCH_SMOKE === '1';
const chosen = (process.env.BENCH_TRANSPORTS?.split(',') ?? TRANSPORTS) as Transport[];

interface TransportResult {
  transport: Transport;
  memory: MemoryPhaseResult;
  broadcast: BroadcastResult[];
}

async function main(): Promise<void> {
  log(`gateway under test: node ${buildGateway().join(' ')}`);
  const results: TransportResult[] = [];
  for (const transport of chosen) {
    log(`${transport}: memory per idle subscription`);
    const memory = await runMemoryPhase({ counts: smoke ? [100, 200] : [2000, 10000], tasks: 20, transport });
    const broadcast: BroadcastResult[] = [];
    for (const subscribers of smoke ? [100] : [1000, 10000]) {
      log(`${transport}: broadcast to ${subscribers}`);
      const phase = await runFanoutPhase({
        subscribers,
        // Long enough for every subscriber to be connected before most updates.
        durationMs: subscribers > 1000 ? 60_000 : 20_000,
        queryRoundMs: 0,
        queryRounds: 0,
        transport,
        queries: false,
      });
      broadcast.push(phase.broadcast);
    }
    results.push({ transport, memory, broadcast });
  }
  writeFileSync('.bench-transports.json', JSON.stringify(results, null, 2));
  process.stdout.write(`${table(results)}\n`);
}

function table(results: TransportResult[]): string {
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  const rows = results.map(({ transport, memory, broadcast }) => {
    const steps = memory.steps.map((s) => `${s.subscriptions}: ${kib(s.perSubscriptionBytes)}`).join('; ');
    const casts = broadcast
      .map(
        (b) =>
          `${b.subscribers}: p50 ${round(median(b.lastMs))} ms, p99 ${round(quantile(b.lastMs, 0.99))} ms (${b.updates} updates${b.allReceivedEveryUpdate ? '' : ', some missed'})`,
      )
      .join('; ');
    return `| ${transport} | ${steps} | ${casts} |`;
  });
  return [
    '| transport | memory per idle subscription (after GC) | broadcast: poll answer → last subscriber |',
    '|---|---|---|',
    ...rows,
  ].join('\n');
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
