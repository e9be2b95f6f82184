import { performance } from 'node:perf_hooks';
import { spawnBareBroadcaster } from '../lib/bare-broadcaster.js';
import { openSubscribers, SseSubscriber } from '../lib/sse.js';
import { log, median, quantile, round, sleep } from '../lib/stats.js';

/** Row 3's baseline at one subscriber count: broadcast request → last of N has the event. */
export interface BareBroadcastResult {
  subscribers: number;
  updates: number;
  lastMs: number[];
  spreadMs: number[];
  /** (subscriber, update) pairs never received. */
  missed: number;
}

/**
 * The same readers as row 3 (bench/lib/sse.ts, in this process) against the bare broadcaster, one
 * update a second as the gateway's polls come: what row 3 would read if the gateway's work between
 * a poll answer and its socket writes cost nothing.
 */
export async function runBareBroadcast(options: {
  subscribers: number;
  /** @default 20 */
  updates?: number;
}): Promise<BareBroadcastResult> {
  const updates = options.updates ?? 20;
  const bare = await spawnBareBroadcaster();
  const subscribers: SseSubscriber[] = [];
  try {
    log(`bare: opening ${options.subscribers} SSE streams`);
    subscribers.push(
      ...(await openSubscribers(options.subscribers, () => new SseSubscriber(bare.port, '{}', true))),
    );
    // A first broadcast, not counted, as the gateway's first updates come before the crowd is
    // connected: the first write to each fresh socket costs more than the later ones.
    await bare.broadcast(JSON.stringify({ data: { warmUp: true } }));
    await sleep(1_000);
    const sentAt: number[] = [];
    for (let progress = 1; progress <= updates; progress += 1) {
      // The size of the gateway's `Follow` event (bench/lib/ops.ts), so both write as many bytes.
      const text = JSON.stringify({
        data: {
          backgroundTaskUpdated: {
            id: '00000000-0000-4000-8000-000000000000',
            state: 'PROCESSING',
            progress,
            queuePosition: null,
            images: [],
            error: null,
          },
        },
      });
      sentAt.push(performance.now());
      await bare.broadcast(text);
      await sleep(1_000);
    }
    const arrivals = Array.from({ length: updates }, () => [] as number[]);
    for (const subscriber of subscribers) {
      for (const event of subscriber.events) {
        const progress = (
          JSON.parse(event.data) as { data: { backgroundTaskUpdated?: { progress: number } } }
        ).data?.backgroundTaskUpdated?.progress;
        if (progress !== undefined) arrivals[progress - 1]?.push(event.at);
      }
    }
    const lastMs: number[] = [];
    const spreadMs: number[] = [];
    let missed = 0;
    arrivals.forEach((times, i) => {
      missed += subscribers.length - times.length;
      if (times.length === 0) return;
      lastMs.push(Math.max(...times) - (sentAt[i] as number));
      spreadMs.push(Math.max(...times) - Math.min(...times));
    });
    log(
      `bare broadcast to ${options.subscribers}: p50 ${round(median(lastMs))} p99 ${round(quantile(lastMs, 0.99))} ms (first → last p50 ${round(median(spreadMs))} ms), missed ${missed}`,
    );
    return { subscribers: options.subscribers, updates: lastMs.length, lastMs, spreadMs, missed };
  } finally {
    for (const s of subscribers) s.close();
    await bare.stop();
  }
}
