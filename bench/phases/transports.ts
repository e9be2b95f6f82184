import { TRANSPORTS, type Transport } from '../lib/sse.js';
import { log } from '../lib/stats.js';
import { type BroadcastResult, runFanoutPhase } from './fanout.js';
import { type MemoryPhaseResult, runMemoryPhase } from './memory.js';

/** Rows 2 and 3 on one subscription transport. */
export interface TransportResult {
  transport: Transport;
  memory: MemoryPhaseResult;
  broadcast: BroadcastResult[];
}

/** The subscriber counts of the per-transport rows; the targets are at the largest. */
export const TRANSPORT_MEMORY_COUNTS = [2000, 10000];
export const TRANSPORT_BROADCAST_COUNTS = [1000, 10000];

/**
 * Rows 2 and 3 of issue #16 on each subscription transport — Yoga's SSE, Apollo's multipart,
 * graphql-sse distinct connections and single-connection mode: memory per idle subscription and
 * broadcast latency, each phase on a fresh gateway process with the fast paths on.
 */
export async function runTransportsPhase(options: {
  transports?: readonly Transport[];
  /** BENCH_QUICK: 1000 subscribers only. */
  quick?: boolean;
}): Promise<TransportResult[]> {
  const results: TransportResult[] = [];
  for (const transport of options.transports ?? TRANSPORTS) {
    log(`${transport}: memory per idle subscription`);
    const memory = await runMemoryPhase({
      counts: options.quick ? [1000] : TRANSPORT_MEMORY_COUNTS,
      tasks: 20,
      transport,
    });
    const broadcast: BroadcastResult[] = [];
    for (const subscribers of options.quick ? [1000] : TRANSPORT_BROADCAST_COUNTS) {
      log(`${transport}: broadcast to ${subscribers}`);
      const phase = await runFanoutPhase({
        subscribers,
        // Long enough for every subscriber to be connected before most updates; single-connection
        // subscribers take three requests each to open.
        durationMs: subscribers <= 1000 ? 20_000 : transport === 'single' ? 150_000 : 60_000,
        queryRoundMs: 0,
        queryRounds: 0,
        transport,
        queries: false,
      });
      broadcast.push(phase.broadcast);
    }
    results.push({ transport, memory, broadcast });
  }
  return results;
}
