import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from 'graphql-sse';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { generateUpload, transparentPng } from '../support/fixtures.js';
import { eventually, readSse, type TestStack, uploadOperation } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';

const GENERATE_URL = `mutation($url: String!, $scene: Int!) {
  generateBackground(input: { image: { url: $url }, background: { sceneType: $scene }, batchSize: 1 }) { id state sceneType batchSize }
}`;
const TASK = `query($id: ID!) {
  backgroundTask(id: $id) { id state progress upstreamTaskId images { url width height expiresAt } error { code message } }
}`;
const FOLLOW = `subscription($id: ID!) { backgroundTaskUpdated(id: $id) { id state progress } }`;

interface TaskView {
  id: string;
  state: string;
  progress: number;
  upstreamTaskId: string | null;
  images: { url: string; width: number; height: number; expiresAt: string }[];
  error: { code: string; message: string } | null;
}

// The image host below is on loopback, which image URLs may reach only in a local setup.
const it = stackTest({ engine: { durationMs: 2_500 }, env: { IMAGE_URL_ALLOW_PRIVATE: 'true' } });

let foreground: Buffer;
let imageHost: Server;
let imageHostUrl: string;
let imageHostRequests = 0;

async function createUploadTask(stack: TestStack, prompt = 'red brick wall at sunset'): Promise<string> {
  const answer = await uploadOperation(
    stack.url,
    generateUpload('id state upstreamTaskId'),
    { file: null, prompt },
    {
      variablePath: 'variables.file',
      bytes: foreground,
    },
  );
  expect(answer.body.errors).toBeUndefined();
  const task = (answer.body.data as { generateBackground: { id: string; state: string } }).generateBackground;
  expect(task.state).toBe('QUEUED');
  return task.id;
}

async function readTask(stack: TestStack, id: string): Promise<TaskView> {
  const answer = await stack.gql<{ backgroundTask: TaskView }>(TASK, { id });
  expect(answer.body.errors).toBeUndefined();
  return answer.body.data!.backgroundTask;
}

function waitForState(stack: TestStack, id: string, states: string[], timeoutMs = 30_000): Promise<TaskView> {
  return eventually(async () => {
    const task = await readTask(stack, id);
    return states.includes(task.state) ? task : undefined;
  }, timeoutMs);
}

function progressOf(events: { event: string; data: unknown }[]): { state: string; progress: number }[] {
  return events
    .filter((e) => e.event === 'next')
    .map(
      (e) =>
        (e.data as { data: { backgroundTaskUpdated: { state: string; progress: number } } }).data
          .backgroundTaskUpdated,
    );
}

beforeAll(async () => {
  foreground = await transparentPng(600, 300);
  imageHost = createServer((_req, res) => {
    imageHostRequests++;
    res.writeHead(200, { 'content-type': 'image/png' }).end(foreground);
  });
  await new Promise<void>((resolve) => imageHost.listen(0, '127.0.0.1', resolve));
  imageHostUrl = `http://127.0.0.1:${(imageHost.address() as AddressInfo).port}/product.png`;
});

afterAll(async () => {
  await new Promise((resolve) => imageHost?.close(resolve));
});

describe('the core path on the local engine', () => {
  it('takes an upload to SUCCEEDED with two stored PNGs of the source aspect ratio', async ({ stack }) => {
    const id = await createUploadTask(stack);
    const done = await waitForState(stack, id, ['SUCCEEDED', 'FAILED']);
    expect(done.error).toBeNull();
    expect(done.state).toBe('SUCCEEDED');
    expect(done.progress).toBe(100);
    expect(done.images).toHaveLength(2);
    const digests = new Set<string>();
    for (const image of done.images) {
      expect(image.url.startsWith(`${stack.url}/files/`)).toBe(true);
      expect(new Date(image.expiresAt).getTime()).toBeGreaterThan(Date.now());
      const response = await fetch(image.url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/png');
      const bytes = Buffer.from(await response.arrayBuffer());
      const meta = await sharp(bytes).metadata();
      expect(meta.format).toBe('png');
      expect(meta.width! / meta.height!).toBeCloseTo(600 / 300, 2);
      expect([meta.width, meta.height]).toEqual([image.width, image.height]);
      digests.add(bytes.toString('base64'));
    }
    expect(digests.size).toBe(2);
  });

  it('fetches a URL once and sends it to PicWish as image_file, with the template id as scene_type', async ({
    stack,
  }) => {
    imageHostRequests = 0;
    const answer = await stack.gql<{
      generateBackground: { id: string; sceneType: number; batchSize: number };
    }>(GENERATE_URL, { url: imageHostUrl, scene: 105 });
    expect(answer.body.errors).toBeUndefined();
    const id = answer.body.data!.generateBackground.id;
    const done = await waitForState(stack, id, ['SUCCEEDED', 'FAILED']);
    expect(done.state).toBe('SUCCEEDED');
    expect(done.images).toHaveLength(1);
    const sent = stack.engine.stats().creates_log.find((entry) => entry.taskId === done.upstreamTaskId);
    expect(sent?.hadFile).toBe(true);
    expect(sent?.fields.image_url).toBeUndefined();
    expect(imageHostRequests).toBe(1);
    expect(sent?.fields.scene_type).toBe('105');
    expect(sent?.fields.batch_size).toBe('1');
    expect(sent?.fields.prompt).toBeUndefined();
  });

  it('streams non-decreasing progress over /graphql SSE and completes after SUCCEEDED', async ({ stack }) => {
    const id = await createUploadTask(stack);
    const { status, events } = await readSse(`${stack.url}/graphql`, {
      body: JSON.stringify({ query: FOLLOW, variables: { id } }),
    });
    expect(status).toBe(200);
    const updates = progressOf(events);
    expect(updates[0]?.state).toBe('QUEUED');
    expect(updates.at(-1)).toEqual({ id, state: 'SUCCEEDED', progress: 100 });
    for (let i = 1; i < updates.length; i += 1) {
      expect(updates[i]!.progress).toBeGreaterThanOrEqual(updates[i - 1]!.progress);
    }
    expect(updates.some((u) => u.state === 'PROCESSING')).toBe(true);
    expect(events.at(-1)?.event).toBe('complete');
  });

  for (const singleConnection of [false, true]) {
    it(`streams progress over /graphql/stream (graphql-sse, ${singleConnection ? 'single' : 'distinct'} connection mode)`, async ({
      stack,
    }) => {
      const id = await createUploadTask(stack);
      const client = createClient({
        url: `${stack.url}/graphql/stream`,
        fetchFn: fetch,
        singleConnection,
        retryAttempts: 0,
      });
      const updates: { state: string; progress: number }[] = [];
      try {
        for await (const result of client.iterate({ query: FOLLOW, variables: { id } })) {
          expect(result.errors).toBeUndefined();
          updates.push(
            (result.data as { backgroundTaskUpdated: { state: string; progress: number } })
              .backgroundTaskUpdated,
          );
        }
      } finally {
        client.dispose();
      }
      expect(updates.at(-1)?.state).toBe('SUCCEEDED');
      for (let i = 1; i < updates.length; i += 1) {
        expect(updates[i]!.progress).toBeGreaterThanOrEqual(updates[i - 1]!.progress);
      }
    });
  }

  it('polls PicWish no more for a task watched by 50 subscribers than for one watched by one', async ({
    stack,
  }) => {
    const follow = async (watchers: number) => {
      const id = await createUploadTask(stack, 'green garden');
      const streams = Array.from({ length: watchers }, () =>
        readSse(`${stack.url}/graphql`, { body: JSON.stringify({ query: FOLLOW, variables: { id } }) }),
      );
      const results = await Promise.all(streams);
      for (const result of results) expect(progressOf(result.events).at(-1)?.state).toBe('SUCCEEDED');
      const task = await readTask(stack, id);
      return stack.engine.stats().pollsByTask[task.upstreamTaskId!] ?? 0;
    };
    const single = await follow(1);
    const many = await follow(50);
    expect(single).toBeGreaterThan(0);
    expect(many).toBeLessThanOrEqual(single + 1);
  });

  it('finishes a task after the gateway restarts in the middle of it', async ({ stack }) => {
    const id = await createUploadTask(stack, 'sandy beach');
    await waitForState(stack, id, ['PROCESSING']);
    await stack.restart();
    const done = await waitForState(stack, id, ['SUCCEEDED', 'FAILED']);
    expect(done.state).toBe('SUCCEEDED');
    expect(done.images).toHaveLength(2);
    const creates = stack.engine.stats().creates_log.filter((entry) => entry.taskId === done.upstreamTaskId);
    expect(creates).toHaveLength(1);
  });

  it('serves a built-in template catalogue of only the ids seen in public PicWish code', async ({
    stack,
  }) => {
    const answer = await stack.gql<{ sceneTypes: { id: number; name: string; source: string }[] }>(
      '{ sceneTypes { id name description source } }',
    );
    const entries = answer.body.data!.sceneTypes;
    expect(entries.map((s) => s.id)).toEqual([2, 5, 105]);
    expect(new Set(entries.map((s) => s.source))).toEqual(new Set(['BUILT_IN']));
  });

  it('never shows the PicWish key in any answer', async ({ stack }) => {
    const key = stack.engine.apiKey;
    const bodies: string[] = [];
    for (const path of ['/graphql?query=%7BsceneTypes%7Bid%7D%7D', '/healthz', '/readyz', '/metrics']) {
      bodies.push(await (await fetch(`${stack.url}${path}`)).text());
    }
    bodies.push(await (await fetch(`${stack.url}/graphql`, { headers: { accept: 'text/html' } })).text());
    const id = await createUploadTask(stack);
    bodies.push(JSON.stringify(await readTask(stack, id)));
    bodies.push(JSON.stringify(await stack.gql('{ nope }')));
    for (const body of bodies) expect(body).not.toContain(key);
  });
});
