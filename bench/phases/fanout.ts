import { performance } from 'node:perf_hooks';
import { DEFAULT_SCENE_TYPES } from '../../src/config/scene-types.js';
import { transparentPng } from '../../test/support/fixtures.js';
import { startPicWishDouble } from '../../test/support/picwish-double.js';
import { type GatewayProcess, spawnGateway } from '../lib/gateway-process.js';
import { type LoadResult, runLoad, spawnBareServer } from '../lib/load.js';
import { createTask, followBody, TASK_QUERY, type TaskView, TERMINAL, waitForTask } from '../lib/ops.js';
import { openSubscribers, SseSubscriber, type Transport } from '../lib/sse.js';
import { log, median, quantile, round, sleep } from '../lib/stats.js';
import { startUpstreamProxy } from '../lib/upstream-proxy.js';

export interface FanInResult {
  subscribers: number;
  pollsWatchedByMany: number;
  /** Mean over the control tasks. */
  pollsWatchedByOne: number;
  controlPolls: number[];
  ratio: number;
  engineRateLimited: number;
}

export interface BroadcastResult {
  subscribers: number;
  updates: number;
  /** Poll answer left the upstream → last of the N subscribers received the update (ms). */
  lastMs: number[];
  /** First → last receive among the N subscribers (ms). */
  spreadMs: number[];
  /** Poll answer → the single subscriber of the control task received its update (ms). */
  singleMs: number[];
  allReceivedEveryUpdate: boolean;
  /** (subscriber, update) pairs never received, over the measured updates. */
  missed: number;
  /** Updates a subscriber received more than once with the same bytes (a re-sent equal version). */
  duplicates: number;
  /** Crowd subscribers whose stream ended without `complete` (dropped as slow readers, or reset). */
  dropped: number;
}

export interface QueryRound {
  concurrency: number;
  gateway: LoadResult;
  bare: LoadResult;
}

export interface FanoutPhaseResult {
  fanIn: FanInResult;
  broadcast: BroadcastResult;
  query: QueryRound[];
  queryBodyBytes: number;
  gatewayCpuProfile?: string;
}

const CONTROL_TASKS = 3;

interface ParsedEvent {
  at: number;
  state: string;
  progress: number;
  data: string;
}

function parsed(subscriber: SseSubscriber): ParsedEvent[] {
  return subscriber.events.map((event) => {
    const payload = JSON.parse(event.data) as {
      data?: { backgroundTaskUpdated?: { state: string; progress: number } };
    };
    const task = payload.data?.backgroundTaskUpdated;
    return { at: event.at, state: task?.state ?? '?', progress: task?.progress ?? -1, data: event.data };
  });
}

/**
 * Rows 1, 3 and 4 on one gateway process: a task watched by `subscribers` SSE clients and a
 * control task watched by one, both through the upstream proxy; then queries of the finished
 * control task against a bare server answering the same bytes.
 */
export async function runFanoutPhase(options: {
  subscribers: number;
  durationMs: number;
  queryRoundMs: number;
  queryRounds: number;
  nodeArgs?: string[];
  env?: Record<string, string>;
  /** How the subscribers connect (bench/lib/sse.ts). @default 'yoga' */
  transport?: Transport;
  /** Row 4 (finished-task queries) after the broadcast. @default true */
  queries?: boolean;
}): Promise<FanoutPhaseResult> {
  const transport = options.transport ?? 'yoga';
  const source = await transparentPng(600, 400);
  const engine = await startPicWishDouble({
    durationMs: options.durationMs,
    sceneTypes: DEFAULT_SCENE_TYPES,
  });
  const proxy = await startUpstreamProxy(engine.url, source);
  let gateway: GatewayProcess | null = null;
  const subscribers: SseSubscriber[] = [];
  try {
    gateway = await spawnGateway({
      upstreamUrl: proxy.url,
      apiKey: engine.apiKey,
      ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
      // The tasks' source image sits behind the bench's loopback proxy.
      env: { IMAGE_URL_ALLOW_PRIVATE: 'true', ...options.env },
    });
    const port = Number(new URL(gateway.url).port);
    const sourceUrl = `${proxy.url}/source.png`;
    // Warm the gateway's code paths (one full task with a subscriber) before measuring.
    const warm = await createTask(gateway, sourceUrl);
    await waitForTask(gateway, warm, (t) => t.upstreamTaskId !== null);

    // One task for the crowd and a few controls with one subscriber each, created together; the
    // controls' mean evens out the ±1 poll that timing alone can make.
    const many = await createTask(gateway, sourceUrl);
    const controls: string[] = [];
    for (let i = 0; i < CONTROL_TASKS; i += 1) controls.push(await createTask(gateway, sourceUrl));
    const singles = controls.map((id) => new SseSubscriber(port, followBody(id), true, transport));
    const first = new SseSubscriber(port, followBody(many), true, transport);
    await Promise.all([...singles.map((s) => s.firstNext), first.firstNext]);
    log(`fan-out: opening ${options.subscribers} ${transport} subscriptions to one task`);
    const rest = await openSubscribers(
      options.subscribers - 1,
      () => new SseSubscriber(port, followBody(many), true, transport),
    );
    const crowd = [first, ...rest];
    subscribers.push(...singles, ...crowd);
    const allConnectedAt = performance.now();
    log(`fan-out: all connected; waiting for both tasks to finish`);
    const manyTask = await waitForTask(
      gateway,
      many,
      (t) => TERMINAL.has(t.state),
      options.durationMs * 4,
      500,
    );
    const controlTasks: TaskView[] = [];
    for (const id of controls)
      controlTasks.push(
        await waitForTask(gateway, id, (t) => TERMINAL.has(t.state), options.durationMs * 4, 500),
      );
    const one = controls[0] as string;
    await Promise.race([Promise.all(subscribers.map((s) => s.ended)), sleep(5_000)]);

    // Row 1: polls per task, as the engine counted them.
    const stats = engine.stats();
    const pollsMany = stats.pollsByTask[manyTask.upstreamTaskId ?? ''] ?? 0;
    const controlPolls = controlTasks.map((t) => stats.pollsByTask[t.upstreamTaskId ?? ''] ?? 0);
    const pollsOne = controlPolls.reduce((a, b) => a + b, 0) / controlPolls.length;
    const fanIn: FanInResult = {
      subscribers: options.subscribers,
      pollsWatchedByMany: pollsMany,
      pollsWatchedByOne: pollsOne,
      controlPolls,
      ratio: pollsOne > 0 ? pollsMany / pollsOne : Number.NaN,
      engineRateLimited: stats.rateLimited,
    };

    // Row 3: updates published after everybody was connected, matched to the poll answer behind them.
    const pollsFor = (upstreamId: string | null) =>
      proxy.polls.filter((p) => p.upstreamTaskId === upstreamId);
    // Keyed by the event's bytes; each subscriber counts once per update, at its first arrival,
    // so an update that comes twice with equal bytes is not mistaken for a miss.
    const byUpdate = new Map<string, Map<number, number>>();
    let duplicates = 0;
    crowd.map(parsed).forEach((events, index) => {
      for (const event of events) {
        if (event.state !== 'PROCESSING' && event.state !== 'QUEUED') continue;
        const arrivals = byUpdate.get(event.data) ?? new Map<number, number>();
        if (arrivals.has(index)) duplicates += 1;
        else arrivals.set(index, event.at);
        byUpdate.set(event.data, arrivals);
      }
    });
    const manyPolls = pollsFor(manyTask.upstreamTaskId);
    const lastMs: number[] = [];
    const spreadMs: number[] = [];
    let missed = 0;
    for (const [data, arrivals] of byUpdate) {
      const times = [...arrivals.values()];
      const firstAt = Math.min(...times);
      if (firstAt < allConnectedAt) continue;
      const progress = (JSON.parse(data) as { data: { backgroundTaskUpdated: { progress: number } } }).data
        .backgroundTaskUpdated.progress;
      const poll = [...manyPolls].reverse().find((p) => p.at <= firstAt && p.progress === progress);
      if (!poll) continue;
      missed += crowd.length - arrivals.size;
      const lastAt = Math.max(...times);
      lastMs.push(lastAt - poll.at);
      spreadMs.push(lastAt - firstAt);
    }
    const dropped = crowd.filter((s) => !s.completed).length;
    const singleMs: number[] = [];
    singles.forEach((single, i) => {
      const onePolls = pollsFor(controlTasks[i]?.upstreamTaskId ?? null);
      for (const event of parsed(single).slice(1)) {
        if (event.state !== 'PROCESSING' && event.state !== 'QUEUED') continue;
        const poll = [...onePolls].reverse().find((p) => p.at <= event.at && p.progress === event.progress);
        if (poll) singleMs.push(event.at - poll.at);
      }
    });
    const broadcast: BroadcastResult = {
      subscribers: options.subscribers,
      updates: lastMs.length,
      lastMs,
      spreadMs,
      singleMs,
      allReceivedEveryUpdate: missed === 0,
      missed,
      duplicates,
      dropped,
    };
    for (const s of subscribers) s.close();
    log(
      `fan-in ${round(fanIn.ratio, 3)} (${pollsMany}/${pollsOne}); broadcast p50 ${round(median(lastMs))} p99 ${round(quantile(lastMs, 0.99))} ms (first → last p50 ${round(median(spreadMs))} ms) over ${lastMs.length} updates; single p50 ${round(median(singleMs))} ms; missed ${missed}, duplicates ${duplicates}, dropped ${dropped}`,
    );
    await sleep(1_000);
    if (options.queries === false) return { fanIn, broadcast, query: [], queryBodyBytes: 0 };

    // Row 4: the finished control task, gateway vs a bare server with the same answer.
    const body = JSON.stringify({ query: TASK_QUERY, variables: { id: one }, operationName: 'Task' });
    const headers = { 'content-type': 'application/json', accept: 'application/graphql-response+json' };
    const probe = await fetch(`${gateway.url}/graphql`, { method: 'POST', headers, body });
    const answer = await probe.text();
    const contentType = probe.headers.get('content-type') ?? 'application/json';
    if (!answer.includes('"SUCCEEDED"')) throw new Error(`unexpected query answer: ${answer}`);
    const bare = await spawnBareServer(answer, contentType);
    const query: QueryRound[] = [];
    try {
      const expect = (status: number, text: string) => {
        if (status !== 200 || text !== answer)
          throw new Error(`unexpected answer ${status}: ${text.slice(0, 200)}`);
      };
      for (const concurrency of [1, 50]) {
        const pids = new Map([
          [bare.url, bare.pid],
          [gateway.url, gateway.pid],
        ]);
        const target = (origin: string, durationMs: number) =>
          runLoad({
            origin,
            path: '/graphql',
            body,
            headers,
            concurrency,
            durationMs,
            expect,
            pid: pids.get(origin),
          });
        await target(bare.url, 700);
        await target(gateway.url, 700);
        const rounds: { gateway: LoadResult[]; bare: LoadResult[] } = { gateway: [], bare: [] };
        for (let round = 0; round < options.queryRounds; round += 1) {
          // Alternate the order so drift in the machine's load hits both sides alike.
          if (round % 2 === 0) {
            rounds.bare.push(await target(bare.url, options.queryRoundMs));
            rounds.gateway.push(await target(gateway.url, options.queryRoundMs));
          } else {
            rounds.gateway.push(await target(gateway.url, options.queryRoundMs));
            rounds.bare.push(await target(bare.url, options.queryRoundMs));
          }
        }
        const merge = (list: LoadResult[]): LoadResult => {
          const requests = list.reduce((n, r) => n + r.requests, 0);
          const seconds = list.reduce((n, r) => n + r.seconds, 0);
          return {
            requests,
            seconds,
            errors: list.reduce((n, r) => n + r.errors, 0),
            serverCpuMs: list.reduce((n, r) => n + r.serverCpuMs, 0),
            throughput: requests / seconds,
            latencies: list.flatMap((r) => r.latencies),
          };
        };
        const result = { concurrency, gateway: merge(rounds.gateway), bare: merge(rounds.bare) };
        query.push(result);
        log(
          `query c=${concurrency}: gateway p50 ${round(median(result.gateway.latencies), 3)} ms ${round(result.gateway.throughput, 0)}/s; bare p50 ${round(median(result.bare.latencies), 3)} ms ${round(result.bare.throughput, 0)}/s`,
        );
      }
    } finally {
      await bare.stop();
    }
    return { fanIn, broadcast, query, queryBodyBytes: Buffer.byteLength(answer) };
  } finally {
    for (const s of subscribers) s.close();
    await gateway?.stop();
    await proxy.close();
    await engine.close();
  }
}
