import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect } from 'vitest';
import { productPhotoJpeg } from '../support/fixtures.js';
import { eventually, readSse, type TestStack, uploadOperation } from '../support/harness.js';
import {
  type CountingServer,
  startCountingServer,
  stopCountingServer,
} from '../support/loopback-transport.js';
import { stackTest } from '../support/stack-test.js';
import { ifFinal } from '../support/task-ops.js';

/**
 * Issue #14, item 2 end to end: `removeBackground: true` takes a photo with its background, has
 * the local engine (a real HTTP server, strict 2 QPS like PicWish) cut it out, stores the cutout
 * and generates from it — one budget for every call, the cutout asked for once even across a
 * restart, and `stage` telling clients where the task is.
 */

const GENERATE = `mutation($file: Upload!, $remove: Boolean) {
  generateBackground(input: {
    image: { file: $file }, background: { prompt: "oak table" }, batchSize: 1, removeBackground: $remove
  }) { id state stage removeBackground }
}`;
const GENERATE_URL = `mutation($url: String!) {
  generateBackground(input: { image: { url: $url }, background: { prompt: "oak table" }, batchSize: 1, removeBackground: true }) { id stage }
}`;
const TASK = `query($id: ID!) { backgroundTask(id: $id) {
  state stage progress removeBackground upstreamTaskId images { width height contentType } error { code message }
  estimatedCredits creditsCharged
} }`;
const FOLLOW = 'subscription($id: ID!) { backgroundTaskUpdated(id: $id) { state stage progress } }';

interface TaskView {
  state: string;
  stage: string | null;
  progress: number;
  removeBackground: boolean;
  upstreamTaskId: string | null;
  images: { width: number; height: number; contentType: string }[];
  error: { code: string; message: string } | null;
  estimatedCredits: number;
  creditsCharged: number | null;
}

// PicWish's own limit, enforced by the engine: a 429 for any call over 2 per sliding second.
const it = stackTest({
  engine: { durationMs: 300, qps: 2 },
  env: { PICWISH_QPS: '2', IMAGE_URL_ALLOW_PRIVATE: 'true' },
});

let photo: Buffer;

beforeAll(async () => {
  photo = await productPhotoJpeg();
});

async function upload(stack: TestStack, bytes: Buffer, remove: boolean | undefined) {
  return uploadOperation(
    stack.url,
    GENERATE,
    { file: null, remove },
    { variablePath: 'variables.file', bytes, name: 'photo.jpg' },
  );
}

async function createTask(stack: TestStack, bytes: Buffer = photo): Promise<string> {
  const answer = await upload(stack, bytes, true);
  expect(answer.body.errors).toBeUndefined();
  const task = (answer.body.data as { generateBackground: { id: string; state: string; stage: string } })
    .generateBackground;
  expect(task).toMatchObject({ state: 'QUEUED', stage: 'CUTOUT', removeBackground: true });
  return task.id;
}

async function readTask(stack: TestStack, id: string): Promise<TaskView> {
  const answer = await stack.gql<{ backgroundTask: TaskView }>(TASK, { id });
  expect(answer.body.errors).toBeUndefined();
  return answer.body.data!.backgroundTask;
}

function finalTask(stack: TestStack, id: string): Promise<TaskView> {
  return eventually(async () => ifFinal(await readTask(stack, id)), 40_000);
}

describe('removeBackground (#14)', () => {
  it('takes JPEG product photos through cutout and generation to SUCCEEDED, one segmentation each, with no 429 at a strict 2 QPS', async ({
    stack,
  }) => {
    stack.engine.resetStats();
    const ids = await Promise.all([createTask(stack), createTask(stack), createTask(stack)]);
    const tasks = await Promise.all(ids.map((id) => finalTask(stack, id)));
    for (const task of tasks) {
      expect(task).toMatchObject({ state: 'SUCCEEDED', stage: null, progress: 100, removeBackground: true });
      // One image at 3 credits, and the cutout's 1.
      expect(task).toMatchObject({ estimatedCredits: 4, creditsCharged: 4 });
      expect(task.images).toEqual([{ width: 600, height: 400, contentType: 'image/png' }]);
    }
    const stats = stack.engine.stats();
    expect(stats).toMatchObject({ segmentations: 3, segmentationAttempts: 3, creates: 3, rateLimited: 0 });
    // PicWish was sent the cutout (a transparent PNG), never the photo.
    expect(stats.creates_log.every((create) => create.hadFile)).toBe(true);
    expect(readdirSync(join(stack.dataDir, 'spool'))).toEqual([]);
  });

  it('streams the stage to a subscriber: CUTOUT, then GENERATING, then the final state with no stage', async ({
    stack,
  }) => {
    stack.engine.resetStats();
    // The first removal is answered 429 with a pause, so the subscriber is there before the cutout.
    stack.engine.faults.segmentationFaults.push({ status: 429, retryAfterSeconds: 2 });
    const id = await createTask(stack);
    const { events } = await readSse(`${stack.url}/graphql`, {
      body: JSON.stringify({ query: FOLLOW, variables: { id } }),
    });
    const updates = events
      .filter((event) => event.event === 'next')
      .map(
        (event) => (event.data as { data: { backgroundTaskUpdated: TaskView } }).data.backgroundTaskUpdated,
      );
    const order = ['CUTOUT', 'GENERATING', 'STORING', null];
    const stages = updates.map((update) => update.stage);
    expect(stages[0]).toBe('CUTOUT');
    expect(stages).toContain('GENERATING');
    expect(updates.at(-1)).toEqual({ state: 'SUCCEEDED', stage: null, progress: 100 });
    for (let i = 1; i < updates.length; i += 1) {
      expect(order.indexOf(stages[i]!)).toBeGreaterThanOrEqual(order.indexOf(stages[i - 1]!));
      expect(updates[i]!.progress).toBeGreaterThanOrEqual(updates[i - 1]!.progress);
    }
    const generating = updates.find((update) => update.stage === 'GENERATING');
    expect(generating?.progress).toBeGreaterThanOrEqual(20);
    expect(stack.engine.stats().segmentations).toBe(1);
  });

  it('fails the task with a clear message when the background removal is refused, and generates nothing', async ({
    stack,
  }) => {
    stack.engine.resetStats();
    stack.engine.faults.segmentationFaults.push({ status: 400, message: 'image_file is not supported' });
    const task = await finalTask(stack, await createTask(stack));
    expect(task.state).toBe('FAILED');
    expect(task.error?.code).toBe('UPSTREAM_REJECTED');
    expect(task.error?.message).toMatch(
      /refused to remove the photo’s background.*image_file is not supported/,
    );
    expect(task.creditsCharged).toBe(0);
    expect(stack.engine.stats()).toMatchObject({ segmentationAttempts: 1, createAttempts: 0 });
    // The photo leaves the spool right after the task is recorded FAILED, not before.
    await eventually(async () => (readdirSync(join(stack.dataDir, 'spool')).length === 0 ? true : undefined));
  });

  it('never repeats the PicWish key that a refused removal’s words contain', async ({ stack }) => {
    stack.engine.faults.segmentationFaults.push({ status: 401, message: `bad key ${stack.engine.apiKey}` });
    const task = await finalTask(stack, await createTask(stack));
    expect(task.error?.code).toBe('UPSTREAM_AUTH_FAILED');
    stack.engine.faults.segmentationFaults.push({
      status: 400,
      message: `key ${stack.engine.apiKey} refused`,
    });
    const rejected = await finalTask(stack, await createTask(stack));
    expect(rejected.error?.code).toBe('UPSTREAM_REJECTED');
    expect(rejected.error?.message).not.toContain(stack.engine.apiKey);
  });

  it('fails with CUTOUT_FAILED when PicWish cannot cut the photo out, and generates nothing', async ({
    stack,
  }) => {
    stack.engine.resetStats();
    const noise = await sharp(
      Buffer.from(Array.from({ length: 320 * 320 * 3 }, (_, i) => (i * 7919) % 256)),
      {
        raw: { width: 320, height: 320, channels: 3 },
      },
    )
      .jpeg()
      .toBuffer();
    const task = await finalTask(stack, await createTask(stack, noise));
    expect(task.state).toBe('FAILED');
    expect(task.error?.code).toBe('CUTOUT_FAILED');
    expect(task.error?.message).toMatch(/could not remove the photo’s background.*Nothing was generated/);
    expect(stack.engine.stats()).toMatchObject({ segmentations: 0, createAttempts: 0 });
  });

  it('still refuses a JPEG without removeBackground, exactly as before, sending nothing', async ({
    stack,
  }) => {
    stack.engine.resetStats();
    for (const remove of [undefined, false]) {
      const answer = await upload(stack, photo, remove);
      expect(answer.body.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        reason: 'NOT_PNG',
        field: 'input.image.file',
      });
    }
    expect(stack.engine.stats()).toMatchObject({ segmentationAttempts: 0, createAttempts: 0 });
  });

  it('refuses a GIF photo as UNSUPPORTED_IMAGE_FORMAT and a tiny one as IMAGE_TOO_SMALL', async ({
    stack,
  }) => {
    const gif = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#fff' } })
      .gif()
      .toBuffer();
    expect((await upload(stack, gif, true)).body.errors?.[0]?.extensions?.reason).toBe(
      'UNSUPPORTED_IMAGE_FORMAT',
    );
    expect(
      (await upload(stack, await productPhotoJpeg(200, 120), true)).body.errors?.[0]?.extensions?.reason,
    ).toBe('IMAGE_TOO_SMALL');
  });

  it('takes a photo by URL with removeBackground: fetched once, cut out, generated', async ({ stack }) => {
    let images: CountingServer | null = null;
    try {
      images = await startCountingServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'image/jpeg' }).end(photo);
      });
      stack.engine.resetStats();
      const answer = await stack.gql<{ generateBackground: { id: string; stage: string } }>(GENERATE_URL, {
        url: `${images.url}/product.jpg`,
      });
      expect(answer.body.errors).toBeUndefined();
      expect(answer.body.data!.generateBackground.stage).toBe('CUTOUT');
      const task = await finalTask(stack, answer.body.data!.generateBackground.id);
      expect(task.state).toBe('SUCCEEDED');
      expect(stack.engine.stats()).toMatchObject({ segmentations: 1, creates: 1, rateLimited: 0 });
      expect(images.connections).toBe(1);
    } finally {
      await stopCountingServer(images);
    }
  });

  it('after a restart between cutout and generation, generates from the stored cutout without removing the background again', async ({
    stack,
  }) => {
    stack.engine.resetStats();
    // The create is answered 429 with a long pause: the task waits with its cutout stored.
    stack.engine.faults.createFaults.push({ status: 429, retryAfterSeconds: 60 });
    const id = await createTask(stack);
    await eventually(async () => {
      const task = await readTask(stack, id);
      return task.stage === 'GENERATING' && stack.engine.stats().createAttempts === 1 ? task : undefined;
    });
    const waiting = await readTask(stack, id);
    expect(waiting).toMatchObject({
      state: 'PROCESSING',
      stage: 'GENERATING',
      progress: 20,
      upstreamTaskId: null,
    });
    await stack.restart();
    const task = await finalTask(stack, id);
    expect(task.state).toBe('SUCCEEDED');
    expect(stack.engine.stats()).toMatchObject({ segmentationAttempts: 1, segmentations: 1, creates: 1 });
  });
});
