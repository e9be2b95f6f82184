import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { createGatewayClient, GatewayError, type Task } from '../../client/index.js';
import { fetchThatDropsTheFirstStream, kitTest, noOpenStreams, pngFile } from '../support/client-kit.js';
import { transparentPng } from '../support/fixtures.js';

/**
 * The client kit (client/) against a real gateway on the local engine: generate from a file and
 * from a URL, a live stream that drops mid-task, cancel, refusals as typed errors, the task list.
 */

const PROMPT = 'white marble counter, soft daylight';

// IMAGE_URL_ALLOW_PRIVATE: the gateway may fetch URL inputs itself behind an SSRF guard; the
// image host here is on loopback.
const it = kitTest({ engine: { durationMs: 1_200 }, env: { IMAGE_URL_ALLOW_PRIVATE: 'true' } });

let png: Buffer;
let imageHost: Server;
let imageUrl: string;

beforeAll(async () => {
  png = await transparentPng(512, 384);
  imageHost = createServer((_req, res) => void res.writeHead(200, { 'content-type': 'image/png' }).end(png));
  await new Promise<void>((resolve) => imageHost.listen(0, '127.0.0.1', resolve));
  imageUrl = `http://127.0.0.1:${(imageHost.address() as AddressInfo).port}/product.png`;
}, 60_000);

afterAll(async () => {
  if (imageHost) await new Promise((resolve) => imageHost.close(resolve));
});

async function expectStoredImages(task: Task): Promise<void> {
  expect(task.state).toBe('SUCCEEDED');
  expect(task.progress).toBe(100);
  expect(task.images).toHaveLength(2);
  for (const image of task.images) {
    const response = await fetch(image.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(image.contentType);
  }
}

describe('createGatewayClient', () => {
  it('generate() uploads a File, reports every update and resolves with the SUCCEEDED task and its images', async ({
    stack,
    client,
  }) => {
    const updates: Task[] = [];
    const task = await client.generate(
      { image: pngFile(png), background: { prompt: PROMPT } },
      { onUpdate: (update) => updates.push(update) },
    );
    await expectStoredImages(task);
    expect(updates[0]?.state).toBe('QUEUED');
    expect(updates.at(-1)).toEqual(task);
    const progress = updates.map((update) => update.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    await noOpenStreams(stack.url);
  });

  it('generate() with an image URL lets the gateway fetch it and ends SUCCEEDED', async ({ client }) => {
    const task = await client.generate({ image: imageUrl, background: { sceneType: 1 }, batchSize: 2 });
    await expectStoredImages(task);
    expect(task.sceneType).toBe(1);
  });

  it('a stream that drops mid-task is reopened, resumes from the snapshot and still ends SUCCEEDED', async ({
    stack,
  }) => {
    const network = fetchThatDropsTheFirstStream();
    const flaky = createGatewayClient({ url: `${stack.url}/graphql`, fetch: network.fetch });
    try {
      const states: string[] = [];
      const task = await flaky.generate(
        { image: pngFile(png), background: { prompt: PROMPT } },
        { onUpdate: (update) => states.push(update.state), reconnectDelayMs: 50 },
      );
      await expectStoredImages(task);
      expect(network.streams()).toBeGreaterThanOrEqual(2);
      expect(states.at(-1)).toBe('SUCCEEDED');
    } finally {
      flaky.dispose();
    }
  });

  it('cancel() of a task being followed ends generate() with CANCELLED', async ({ client }) => {
    const cancels: Promise<Task | null>[] = [];
    const task = await client.generate(
      { image: pngFile(png), background: { prompt: PROMPT } },
      {
        onUpdate: (update) => {
          if (cancels.length === 0) cancels.push(client.cancel(update.id));
        },
      },
    );
    expect(task.state).toBe('CANCELLED');
    expect(task.images).toEqual([]);
    expect((await cancels[0])?.id).toBe(task.id);
  });

  it('a refused input rejects with a GatewayError carrying code, reason, and every problem under the kit input names', async ({
    client,
  }) => {
    const tiny = await transparentPng(64, 64);
    const long = 'marble '.repeat(300);
    const refusal = await client.generate({ image: pngFile(tiny), background: { prompt: long } }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(GatewayError);
    const error = refusal as GatewayError;
    expect(error.code).toBe('BAD_USER_INPUT');
    // The prompt comes first (as before the image was checked too), then the image.
    expect(error.reason).toBe('PROMPT_TOO_LONG');
    expect(error.field).toBe('background.prompt');
    expect(error.problems).toEqual([
      expect.objectContaining({ reason: 'PROMPT_TOO_LONG', field: 'background.prompt' }),
      expect.objectContaining({
        reason: 'IMAGE_TOO_SMALL',
        field: 'image',
        message: expect.stringMatching(/at least 256 px/),
      }),
    ]);
  });

  it('follow() of an unknown task rejects with NOT_FOUND instead of reconnecting', async ({ client }) => {
    const refusal = await client.follow('no-such-task').then(
      () => null,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(GatewayError);
    expect((refusal as GatewayError).code).toBe('NOT_FOUND');
  });

  it('an aborted signal stops following and closes the stream on the gateway', async ({ stack, client }) => {
    const controller = new AbortController();
    const following = client.generate(
      { image: pngFile(png), background: { prompt: PROMPT } },
      { onUpdate: () => controller.abort(new Error('left the page')), signal: controller.signal },
    );
    await expect(following).rejects.toThrow('left the page');
    await noOpenStreams(stack.url);
  });

  it('task(), tasks() and remove() read and delete the caller’s tasks', async ({ client }) => {
    const done = await client.generate({ image: pngFile(png), background: { prompt: PROMPT }, batchSize: 1 });
    expect((await client.task(done.id))?.state).toBe('SUCCEEDED');
    const page = await client.tasks({ first: 50 });
    expect(page.tasks.map((task) => task.id)).toContain(done.id);
    expect(page.tasks[0]?.id).toBe(done.id);
    expect(await client.remove(done.id)).toBe(true);
    expect(await client.task(done.id)).toBeNull();
    expect(await client.remove(done.id)).toBe(false);
    expect((await client.sceneTypes()).length).toBeGreaterThan(0);
  });
});
