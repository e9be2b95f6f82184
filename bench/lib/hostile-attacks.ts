/**
 * The attacks of the hostile bench (bench/hostile.ts, #27), each as one tenant ("alpha") performs
 * it against a gateway process: the red-team cases of test/hostile/ at a bounded size (a few
 * hundred requests at most, a few tens of seconds), with a one-line account of what alpha got.
 * The eight attacks stay side by side, one short function each, so their sizes can be read and
 * compared in one place; what they are built from is in bench/lib/hostile-attack-kit.ts.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { RENDITION_FORMATS, RENDITION_STEPS } from '../../src/results/renditions.js';
import { sendBatch } from '../../test/support/batch-ops.js';
import {
  interlacedPngBomb,
  misbuiltPngs,
  productPhotoJpeg,
  transparentPng,
} from '../../test/support/fixtures.js';
import { uploadOperation } from '../../test/support/harness.js';
import { TENANTS } from '../../test/support/tenancy.js';
import { generateHooked } from '../../test/support/webhooks.js';
import { ALPHA, type Attack, drip, pool, seconds, size, tally } from './hostile-attack-kit.js';
import { gqlAs, refusalOf, taskOf } from './probes.js';
import { median, sleep } from './stats.js';

const AMPLIFY = `query Amplify($ids: [ID!]!) { nodes(ids: $ids) { ... on BackgroundBatch {
  tasks { id state images { url width } batch { tasks { id state images { url width } } } } } } }`;

/** test/hostile/query-amplification.test.ts: nodes × batch → tasks → images, ten per JSON array. */
const amplification: Attack = {
  name: 'Query amplification',
  async prepare(ctx) {
    const good = await transparentPng(400, 300);
    const sent = await sendBatch(ctx.gateway, [{ file: good }, { file: good }], { tenant: TENANTS.alpha });
    const batchId = sent.data?.generateBackgrounds.batch.id;
    if (!batchId) throw new Error(`alpha's batch was refused: ${refusalOf(sent.errors)}`);
    const ids = Array.from({ length: 100 }, () => batchId);
    const body = JSON.stringify(Array.from({ length: 10 }, () => ({ query: AMPLIFY, variables: { ids } })));
    return async () => {
      const n = size(ctx, 20, 200);
      let largest = 0;
      const answers = await pool(n, 5, async () => {
        const response = await request(`${ctx.gateway.url}/graphql`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/graphql-response+json',
            ...ALPHA,
          },
          body,
        });
        const text = await response.body.text();
        largest = Math.max(largest, text.length);
        const operations = JSON.parse(text) as { errors?: never }[];
        return Array.isArray(operations)
          ? operations.map((each) => refusalOf(each.errors))
          : [`${response.statusCode}`];
      });
      return `${n} requests × 10 operations: ${tally(answers.flat())}; each answer ≤ ${(largest / 1024).toFixed(1)} KB`;
    };
  },
};

const GENERATE_PHOTO = `mutation($file: Upload!, $remove: Boolean) {
  generateBackground(input: {
    image: { file: $file }, background: { prompt: "oak table" }, batchSize: 1, removeBackground: $remove
  }) { id }
}`;

/** test/hostile/decompression-bombs.test.ts: the 776 KB interlaced PNG bomb, as foreground and photo. */
const bombs: Attack = {
  name: 'Decompression bombs',
  async prepare(ctx) {
    const bomb = await interlacedPngBomb();
    return async () => {
      const n = size(ctx, 12, 60);
      const atOnce = size(ctx, 4, 8);
      const answers = await pool(n, atOnce, async (i) => {
        const answer = await uploadOperation(
          ctx.gateway.url,
          GENERATE_PHOTO,
          { file: null, remove: i % 2 === 1 },
          { variablePath: 'variables.file', bytes: bomb, name: 'bomb.png' },
          { 'apollo-require-preflight': 'true', ...ALPHA },
        );
        return refusalOf(answer.body.errors);
      });
      return `${n} uploads of the ${Math.round(bomb.length / 1000)} KB bomb (every other one as a removeBackground photo), ${atOnce} at once: ${tally(answers)}`;
    };
  },
};

const LINK = `query($id: ID!, $format: ImageFormat, $width: Int) {
  backgroundTask(id: $id) { images { url(format: $format, width: $width) } } }`;

/** test/hostile/heavy-work-fairness.test.ts: every distinct rendition of a large result, asked at once. */
const renditions: Attack = {
  name: 'Rendition flood',
  async prepare(ctx) {
    const side = 1024;
    const task = await taskOf(ctx.gateway.url, TENANTS.alpha, await transparentPng(side, side));
    const formats = ctx.quick ? (['WEBP', 'AVIF'] as const) : RENDITION_FORMATS;
    const widths = ctx.quick ? RENDITION_STEPS.filter((w) => w >= 320 && w <= 2048) : RENDITION_STEPS;
    const links: string[] = [];
    for (const format of formats) {
      for (const width of widths) {
        const read = await gqlAs<{ backgroundTask: { images: { url: string }[] } }>(
          ctx.gateway.url,
          TENANTS.alpha,
          LINK,
          { id: task.id, format, width },
        );
        const link = read.body.data?.backgroundTask.images[0]?.url;
        if (!link) throw new Error(`no rendition link: ${refusalOf(read.body.errors)}`);
        links.push(link);
      }
    }
    return async () => {
      const deadline = size(ctx, 20_000, 45_000);
      const leave = new AbortController();
      const timer = setTimeout(() => leave.abort(), deadline);
      const started = performance.now();
      let last = 0;
      const answers = await Promise.all(
        links.map(async (link) => {
          try {
            const response = await fetch(link, { signal: leave.signal });
            await response.arrayBuffer();
            last = performance.now() - started;
            return response.status === 200 ? 'served' : String(response.status);
          } catch {
            return `abandoned at ${seconds(deadline)}`;
          }
        }),
      );
      clearTimeout(timer);
      return `${links.length} distinct renditions (${formats.length} formats × ${widths.length} widths) of a ${side}×${side} result, all asked at once: ${tally(answers)}; last served after ${seconds(last)}`;
    };
  },
};

/** test/hostile/slow-senders-and-long-answers.test.ts: bodies dripping a byte every 3 s. */
const dripping: Attack = {
  name: 'Dripping bodies',
  async prepare(ctx) {
    return async () => {
      const n = size(ctx, 40, 300);
      const deadline = size(ctx, 25_000, 40_000);
      const port = Number(new URL(ctx.gateway.url).port);
      const ends = await Promise.all(Array.from({ length: n }, () => drip(port, 3_000, deadline)));
      const closed = ends.flatMap((end) => (end.closedMs === null ? [] : [end.closedMs]));
      return `${n} connections dripping a byte every 3 s: ${tally(ends.map((end) => end.answer))}; closed after ${seconds(median(closed))} (median), ${seconds(Math.max(0, ...closed))} at most`;
    };
  },
};

/** test/hostile/idempotent-replays.test.ts: batches of URL inputs under a used batch key. */
const replays: Attack = {
  name: 'Idempotent replays',
  async prepare(ctx) {
    const key = `hostile-bench-${Date.now()}`;
    const inputs = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({ url: `${ctx.images.url}/${prefix}-${i}.png` }));
    const first = await sendBatch(ctx.gateway, inputs('first', 3), { key, tenant: TENANTS.alpha });
    if (!first.data?.generateBackgrounds.batch.id)
      throw new Error(`alpha's batch: ${refusalOf(first.errors)}`);
    return async () => {
      const n = size(ctx, 20, 200);
      const before = ctx.images.fetches();
      const answers = await pool(n, 8, async (i) => {
        // Half change the number of inputs (told apart without a fetch), half only their URLs.
        const answer =
          i % 2 === 0
            ? await sendBatch(ctx.gateway, inputs(`more-${i}`, 50), { key, tenant: TENANTS.alpha })
            : await sendBatch(ctx.gateway, inputs(`other-${i}`, 3), { key, tenant: TENANTS.alpha });
        return refusalOf(answer.errors);
      });
      const fetched = ctx.images.fetches() - before;
      const sameCount = 3 * Math.floor(n / 2);
      return `${n} batches under a used key (half 50 new URL inputs, half 3 other URLs), 8 at once: ${tally(answers)}; ${fetched} image fetches (the 3-input replays have ${sameCount} URLs)`;
    };
  },
};

/** test/hostile/refused-inputs-count.test.ts: a flood of images refused after they were read. */
const refusedInputs: Attack = {
  name: 'Refused inputs flood',
  async prepare(ctx) {
    const bad = await misbuiltPngs();
    const images = [await productPhotoJpeg(400, 300), bad.afterIend, bad.ihdrAfterIdat, bad.apng];
    return async () => {
      const n = size(ctx, 30, 200);
      const answers = await pool(n, 8, async (i) => {
        const answer = await uploadOperation(
          ctx.gateway.url,
          GENERATE_PHOTO,
          { file: null, remove: false },
          { variablePath: 'variables.file', bytes: images[i % images.length] as Buffer },
          { 'apollo-require-preflight': 'true', ...ALPHA },
        );
        return refusalOf(answer.body.errors);
      });
      return `${n} bad images (JPEG, bytes after IEND, IHDR after IDAT, APNG), 8 at once: ${tally(answers)}`;
    };
  },
};

const HOOKED_EVENTS = ['QUEUED', 'PROCESSING', 'SUCCEEDED'];

/** test/hostile/webhook-fairness.test.ts: tasks whose webhook receiver takes requests and never answers. */
const hangingWebhooks: Attack = {
  name: 'Webhook receiver never answers',
  async prepare(ctx) {
    const held = new Set<IncomingMessage>();
    let received = 0;
    const receiver = createServer((req) => {
      received += 1;
      held.add(req);
      req.socket.once('close', () => held.delete(req));
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    return async () => {
      const n = size(ctx, 8, 30);
      // Sampled, not counted on arrival: a timed-out try's close can reach the receiver a moment
      // after the try that took its slot.
      let mostHeld = 0;
      const sampler = setInterval(() => {
        mostHeld = Math.max(mostHeld, held.size);
      }, 100);
      const made: string[] = [];
      for (let i = 0; i < n; i += 1) {
        made.push(refusalOf((await generateHooked(ctx.gateway.url, hook, HOOKED_EVENTS, ALPHA)).errors));
      }
      // Past WEBHOOK_TIMEOUT_MS (10 s): held tries time out and are tried again.
      await sleep(size(ctx, 12_000, 25_000));
      clearInterval(sampler);
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
      return `${n} tasks, ${HOOKED_EVENTS.length} events each hooked to a receiver that never answers: ${tally(made)}; ${received} tries received, at most ${mostHeld} held at once (WEBHOOK_IN_FLIGHT_PER_TENANT: 4)`;
    };
  },
};

const streamCap = (quick: boolean): number => (quick ? 40 : 250);
const WATCH = 'subscription($id: ID!) { backgroundTaskUpdated(id: $id) { id state } }';

/** test/hostile/stream-caps.test.ts: event streams up to SSE_STREAMS_PER_TENANT and past it. */
const openStreams: Attack = {
  name: 'Open streams up to the cap',
  env: (quick) => ({ SSE_STREAMS_PER_TENANT: String(streamCap(quick)) }),
  async prepare(ctx) {
    // A task that never finishes, so its streams stay open.
    ctx.engine.faults.acceptCreatesWithoutProcessing = true;
    const task = await taskOf(ctx.gateway.url, TENANTS.alpha, await transparentPng(400, 300), (t) =>
      Boolean(t.upstreamTaskId),
    ).finally(() => {
      ctx.engine.faults.acceptCreatesWithoutProcessing = false;
    });
    return async () => {
      const cap = streamCap(ctx.quick);
      const n = cap + size(ctx, 10, 50);
      const hold = size(ctx, 5_000, 15_000);
      const leave = new AbortController();
      const answers = await pool(n, 50, async () => {
        try {
          const response = await fetch(`${ctx.gateway.url}/graphql`, {
            method: 'POST',
            signal: leave.signal,
            headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...ALPHA },
            body: JSON.stringify({ query: WATCH, variables: { id: task.id } }),
          });
          if (response.status === 200) return '200 open';
          const refusal = (await response.json()) as { errors?: never };
          return `${response.status} ${refusalOf(refusal.errors)}`;
        } catch (error) {
          return (error as Error).message;
        }
      });
      await sleep(hold);
      leave.abort();
      return `${n} event streams on one running task (SSE_STREAMS_PER_TENANT=${cap}), held ${seconds(hold)}: ${tally(answers)}`;
    };
  },
};

/** In the order the bench runs them. */
export const ATTACKS: readonly Attack[] = [
  amplification,
  bombs,
  renditions,
  dripping,
  replays,
  refusedInputs,
  hangingWebhooks,
  openStreams,
];
