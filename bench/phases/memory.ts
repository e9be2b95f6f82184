import { DEFAULT_SCENE_TYPES } from '../../src/config/scene-types.js';
import { startLocalEngine } from '../../src/local-engine/index.js';
import { transparentPng } from '../../test/support/fixtures.js';
import { type GatewayProcess, spawnGateway } from '../lib/gateway-process.js';
import { createTask, followBody, waitForTask } from '../lib/ops.js';
import { openSubscribers, SseSubscriber, type Transport } from '../lib/sse.js';
import { log, sleep } from '../lib/stats.js';
import { startUpstreamProxy } from '../lib/upstream-proxy.js';

export interface MemoryStep {
  subscriptions: number;
  rssBytes: number;
  perSubscriptionBytes: number;
  heapPerSubscriptionBytes: number;
  /** RSS growth per subscription before the forced GC (what a scrape would see). */
  rawPerSubscriptionBytes: number;
}

export interface MemoryPhaseResult {
  tasks: number;
  baselineRssBytes: number;
  baselineHeapBytes: number;
  steps: MemoryStep[];
}

/**
 * RSS after a full GC (forced through the inspector) and a short settle, with the heap figures:
 * garbage left by setting the streams up is not memory the subscriptions hold.
 */
async function settledRss(
  gateway: GatewayProcess,
): Promise<{ rss: number; heapUsed: number; external: number }> {
  await sleep(500);
  const usage = await gateway.collectGarbage();
  await sleep(500);
  return {
    rss: gateway.rss(),
    heapUsed: usage?.heapUsed ?? Number.NaN,
    external: usage?.external ?? Number.NaN,
  };
}

/**
 * Row 2: idle SSE subscriptions spread over `tasks` running tasks (the engine keeps them running
 * far longer than the run); RSS growth over a baseline taken after a warm-up.
 */
export async function runMemoryPhase(options: {
  counts: number[];
  tasks: number;
  env?: Record<string, string>;
  /** How the subscribers connect (bench/lib/sse.ts); the warm-up uses the same. @default 'yoga' */
  transport?: Transport;
}): Promise<MemoryPhaseResult> {
  const transport = options.transport ?? 'yoga';
  const engine = await startLocalEngine({ durationMs: 1e9, sceneTypes: DEFAULT_SCENE_TYPES });
  const proxy = await startUpstreamProxy(engine.url, await transparentPng(600, 400));
  const subscribers: SseSubscriber[] = [];
  let gateway: GatewayProcess | null = null;
  try {
    gateway = await spawnGateway({
      upstreamUrl: proxy.url,
      apiKey: engine.apiKey,
      inspect: true,
      // The tasks' source image sits behind the bench's loopback proxy.
      env: { IMAGE_URL_ALLOW_PRIVATE: 'true', ...options.env },
    });
    const port = Number(new URL(gateway.url).port);
    const ids: string[] = [];
    for (let i = 0; i < options.tasks; i += 1) ids.push(await createTask(gateway, `${proxy.url}/source.png`));
    for (const id of ids) await waitForTask(gateway, id, (t) => t.upstreamTaskId !== null, 30_000, 100);
    // Warm-up: a few subscriptions per task, so code paths and per-task state exist before the baseline.
    const warm = await openSubscribers(
      ids.length * 3,
      (i) => new SseSubscriber(port, followBody(ids[i % ids.length] as string), false, transport),
    );
    for (const s of warm) s.close();
    await sleep(1_000);
    const baseline = await settledRss(gateway);
    log(`memory: baseline RSS ${(baseline.rss / 1048576).toFixed(1)} MiB with ${ids.length} running tasks`);
    const steps: MemoryStep[] = [];
    for (const count of options.counts) {
      const more = count - subscribers.length;
      const opened = await openSubscribers(
        more,
        (i) =>
          new SseSubscriber(
            port,
            followBody(ids[(subscribers.length + i) % ids.length] as string),
            false,
            transport,
          ),
        200,
      );
      subscribers.push(...opened);
      const broken = subscribers.filter((s) => s.status !== 200).length;
      if (broken > 0) throw new Error(`${broken} subscriptions were refused`);
      const raw = gateway.rss();
      const after = await settledRss(gateway);
      const step: MemoryStep = {
        subscriptions: count,
        rssBytes: after.rss,
        perSubscriptionBytes: (after.rss - baseline.rss) / count,
        heapPerSubscriptionBytes: (after.heapUsed - baseline.heapUsed) / count,
        rawPerSubscriptionBytes: (raw - baseline.rss) / count,
      };
      steps.push(step);
      log(
        `memory: ${count} ${transport} subscriptions, RSS ${(after.rss / 1048576).toFixed(1)} MiB: ${(step.perSubscriptionBytes / 1024).toFixed(1)} KiB each after GC (${(step.rawPerSubscriptionBytes / 1024).toFixed(1)} before), heap ${(step.heapPerSubscriptionBytes / 1024).toFixed(1)} KiB`,
      );
    }
    return { tasks: ids.length, baselineRssBytes: baseline.rss, baselineHeapBytes: baseline.heapUsed, steps };
  } finally {
    for (const s of subscribers) s.close();
    await gateway?.stop();
    await proxy.close();
    await engine.close();
  }
}
