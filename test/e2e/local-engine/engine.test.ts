import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalEngineOptions } from '../../../src/local-engine/index.js';
import type { TaskView } from '../../../src/local-engine/tasks.js';
import { type PicWishDouble, startPicWishDouble } from '../../support/picwish-double.js';

/**
 * The engine's PicWish contract, driven through the suite's PicWish double so that its proxy counts
 * the calls (`stats()`); the double's own fault switches are pinned down in the last block.
 */

interface Answer<T> {
  httpStatus: number;
  headers: Headers;
  body: { status: number; message: string; data?: T };
}

const CREATE_PATH = '/api/tasks/visual/background';
const DURATION_MS = 300;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A transparent canvas with an opaque green block standing in its lower middle. */
function subjectPng(width: number, height: number): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect x="${width * 0.4}" y="${height * 0.3}" width="${width * 0.2}" height="${height * 0.5}" fill="#208040"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

type Fields = Record<string, string | Buffer>;

function formOf(fields: Fields): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, new Blob([new Uint8Array(value)], { type: 'image/png' }), 'subject.png');
  }
  return form;
}

async function answer<T>(response: Response): Promise<Answer<T>> {
  return {
    httpStatus: response.status,
    headers: response.headers,
    body: (await response.json()) as Answer<T>['body'],
  };
}

function create(engine: PicWishDouble, fields: Fields, key = engine.apiKey): Promise<Response> {
  return fetch(`${engine.url}${CREATE_PATH}`, {
    method: 'POST',
    headers: { 'X-API-KEY': key },
    body: formOf(fields),
  });
}

async function createTask(engine: PicWishDouble, fields: Fields): Promise<string> {
  const created = await answer<{ task_id: string }>(await create(engine, fields));
  expect(created.httpStatus).toBe(200);
  expect(created.body).toMatchObject({ status: 200, data: { task_id: expect.any(String) } });
  return created.body.data!.task_id;
}

function poll(engine: PicWishDouble, taskId: string, key = engine.apiKey): Promise<Response> {
  return fetch(`${engine.url}${CREATE_PATH}/${taskId}`, { headers: { 'X-API-KEY': key } });
}

async function pollUntilTerminal(
  engine: PicWishDouble,
  taskId: string,
  seen: TaskView[] = [],
): Promise<TaskView> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const polled = await answer<TaskView>(await poll(engine, taskId));
    expect(polled.httpStatus).toBe(200);
    const data = polled.body.data!;
    seen.push(data);
    if (data.state === 1 || data.state < 0) return data;
    await sleep(20);
  }
  throw new Error(`task ${taskId} did not finish in time`);
}

async function download(url: string): Promise<Buffer> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('image/png');
  return Buffer.from(await response.arrayBuffer());
}

async function rgbAt(png: Buffer, x: number, y: number): Promise<[number, number, number]> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return [data[i]!, data[i + 1]!, data[i + 2]!];
}

async function meanAbsoluteDifference(a: Buffer, b: Buffer): Promise<number> {
  const [ra, rb] = await Promise.all([sharp(a).raw().toBuffer(), sharp(b).raw().toBuffer()]);
  let total = 0;
  for (let i = 0; i < ra.length; i++) total += Math.abs(ra[i]! - rb[i]!);
  return total / ra.length;
}

/** Renders a prompt and returns the first image's top-left backdrop pixel. */
async function cornerFor(engine: PicWishDouble, fields: Fields): Promise<[number, number, number]> {
  const done = await pollUntilTerminal(engine, await createTask(engine, fields));
  expect(done.state).toBe(1);
  return rgbAt(await download(done.image_1), 2, 2);
}

const started: PicWishDouble[] = [];
async function engineWith(options: LocalEngineOptions): Promise<PicWishDouble> {
  const engine = await startPicWishDouble({ durationMs: DURATION_MS, ...options });
  started.push(engine);
  return engine;
}

let engine: PicWishDouble;
let subject: Buffer;
let wide: Buffer;

beforeAll(async () => {
  subject = await subjectPng(600, 300);
  wide = await subjectPng(2048, 1024);
  engine = await startPicWishDouble({
    durationMs: DURATION_MS,
    sceneTypes: [{ id: 7, name: 'Green meadow', description: 'fresh green grass under a soft sky' }],
  });
});

afterEach(() => {
  engine.faults.createFaults.length = 0;
  engine.faults.pollFaults.length = 0;
  engine.faults.nextTaskStates.length = 0;
  engine.faults.acceptCreatesWithoutProcessing = false;
  engine.resetStats();
});

afterAll(async () => {
  await Promise.all([engine.close(), ...started.map((e) => e.close())]);
});

describe('local engine: a task from create to result', () => {
  it('walks a file create through the PicWish states to two distinct PNGs of the source size', async () => {
    const before = Date.now();
    const taskId = await createTask(engine, { image_file: subject, prompt: 'a warm wooden table' });
    const seen: TaskView[] = [];
    const done = await pollUntilTerminal(engine, taskId, seen);

    const order = [0, 2, 3, 4, 1];
    const ranks = seen.map((d) => order.indexOf(d.state));
    expect(ranks.every((rank) => rank >= 0)).toBe(true);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(seen.map((d) => d.state)).toContain(4);
    const progress = seen.map((d) => d.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    for (const running of seen.filter((d) => d.state !== 1)) {
      expect(running).toMatchObject({ image_1: '', image_2: '', completed_at: 0 });
    }

    expect(done).toMatchObject({
      task_id: taskId,
      state: 1,
      progress: 100,
      return_type: 1,
      state_detail: 'Complete',
    });
    expect(Math.abs(done.created_at - before / 1000)).toBeLessThan(5);
    expect(done.completed_at).toBeGreaterThanOrEqual(done.created_at);
    expect(done.processed_at).toBeGreaterThanOrEqual(done.created_at);
    expect(done.time_elapsed).toBeGreaterThanOrEqual(DURATION_MS);
    expect(done.image_1.startsWith(`${engine.url}/results/`)).toBe(true);

    const [first, second] = await Promise.all([download(done.image_1), download(done.image_2)]);
    for (const png of [first, second]) {
      expect(await sharp(png).metadata()).toMatchObject({ format: 'png', width: 600, height: 300 });
    }
    expect(first.equals(second)).toBe(false);
    expect(await meanAbsoluteDifference(first, second)).toBeGreaterThan(3);

    const stats = engine.stats();
    expect(stats).toMatchObject({ creates: 1, createAttempts: 1 });
    expect(stats.pollsByTask[taskId]).toBe(seen.length);
    expect(stats.resultFetches[new URL(done.image_1).pathname]).toBe(1);
    expect(stats.lastCreate).toMatchObject({ hadFile: true, fileBytes: subject.byteLength });
    expect(stats.lastCreate?.fields).toEqual({ prompt: 'a warm wooden table' });
  });

  it('scales a large source to 1024 px on the long side, keeping the ratio', async () => {
    const taskId = await createTask(engine, { image_file: wide, prompt: 'grey concrete' });
    const done = await pollUntilTerminal(engine, taskId);
    expect(done.state).toBe(1);
    expect(await sharp(await download(done.image_1)).metadata()).toMatchObject({ width: 1024, height: 512 });
    expect(engine.stats().creates_log).toEqual([
      { taskId, fields: { prompt: 'grey concrete' }, hadFile: true },
    ]);
  });

  it('gives only image_1 when batch_size is 1', async () => {
    const taskId = await createTask(engine, { image_file: subject, prompt: 'studio', batch_size: '1' });
    const done = await pollUntilTerminal(engine, taskId);
    expect(done.state).toBe(1);
    expect(done.image_1).not.toBe('');
    expect(done.image_2).toBe('');
  });

  it('answers 404 for an unknown task id', async () => {
    const polled = await answer(await poll(engine, '00000000-0000-4000-8000-000000000000'));
    expect(polled.httpStatus).toBe(404);
    expect(polled.body).toEqual({ status: 404, message: 'task not found' });
  });
});

describe('local engine: prompts steer the backdrop', () => {
  it('paints a red backdrop for "red" and a blue one for "blue"', async () => {
    const [red, blue] = await Promise.all([
      cornerFor(engine, { image_file: subject, prompt: 'a red wall' }),
      cornerFor(engine, { image_file: subject, prompt: 'a blue wall' }),
    ]);
    expect(red[0] - red[2]).toBeGreaterThan(60);
    expect(blue[2] - blue[0]).toBeGreaterThan(60);
  });

  it('drops a colour named in negative_prompt', async () => {
    const corner = await cornerFor(engine, {
      image_file: subject,
      prompt: 'blue and red',
      negative_prompt: 'blue',
    });
    expect(corner[0] - corner[2]).toBeGreaterThan(60);
  });

  it('reads a catalogued scene_type as its text and gives unknown ids a neutral light-grey studio', async () => {
    const [meadow, unknown] = await Promise.all([
      cornerFor(engine, { image_file: subject, scene_type: '7' }),
      cornerFor(engine, { image_file: subject, scene_type: '999' }),
    ]);
    expect(meadow[1]).toBeGreaterThan(meadow[0] + 20);
    expect(meadow[1]).toBeGreaterThan(meadow[2] + 20);
    expect(Math.max(...unknown) - Math.min(...unknown)).toBeLessThan(12);
    expect(Math.min(...unknown)).toBeGreaterThan(150);
  });

  it('casts a contact shadow on the floor under the subject', async () => {
    const done = await pollUntilTerminal(
      engine,
      await createTask(engine, { image_file: subject, prompt: 'white' }),
    );
    const png = await download(done.image_1);
    // The block spans x 240..360 and ends at y 240; compare just below it with the same row further out.
    const luminance = ([r, g, b]: [number, number, number]) => 0.3 * r + 0.59 * g + 0.11 * b;
    const under = luminance(await rgbAt(png, 300, 243));
    const aside = luminance(await rgbAt(png, 90, 243));
    expect(under / aside).toBeLessThan(0.8);
  });
});

describe('local engine: request validation', () => {
  it('answers 401 to a wrong or missing X-API-KEY on create and poll', async () => {
    for (const key of ['wrong', '']) {
      const created = await answer(await create(engine, { image_file: subject, prompt: 'red' }, key));
      expect(created.httpStatus).toBe(401);
      expect(created.body.status).toBe(401);
    }
    const taskId = await createTask(engine, { image_file: subject, prompt: 'red' });
    const polled = await answer(await poll(engine, taskId, 'wrong'));
    expect(polled.httpStatus).toBe(401);
    expect(polled.body.status).toBe(401);
    expect(engine.stats()).toMatchObject({ createAttempts: 3, creates: 1, polls: 1 });
  });

  it.each<[string, Fields, string]>([
    ['no image', { prompt: 'red' }, 'image_file'],
    [
      'both image sources',
      { image_file: Buffer.from('x'), image_url: 'http://a.test/x.png', prompt: 'red' },
      'image_url',
    ],
    ['no prompt nor scene_type', { image_file: Buffer.from('x') }, 'prompt'],
    [
      'both prompt and scene_type',
      { image_file: Buffer.from('x'), prompt: 'red', scene_type: '2' },
      'scene_type',
    ],
    ['a prompt over 1024 characters', { image_file: Buffer.from('x'), prompt: 'r'.repeat(1025) }, 'prompt'],
    ['a non-integer scene_type', { image_file: Buffer.from('x'), scene_type: 'studio' }, 'scene_type'],
    ['a batch_size of 3', { image_file: Buffer.from('x'), prompt: 'red', batch_size: '3' }, 'batch_size'],
    ['image_file sent as text', { image_file: 'x', prompt: 'red' }, 'image_file'],
  ])('answers 400 naming the parameter for %s', async (_case, fields, parameter) => {
    const created = await answer(await create(engine, fields));
    expect(created.httpStatus).toBe(400);
    expect(created.body.status).toBe(400);
    expect(created.body.message).toContain(parameter);
    expect(engine.stats()).toMatchObject({ creates: 0, createAttempts: 1 });
  });

  it('answers 400 to a body that is not a form', async () => {
    const response = await fetch(`${engine.url}${CREATE_PATH}`, {
      method: 'POST',
      headers: { 'X-API-KEY': engine.apiKey, 'Content-Type': 'application/json' },
      body: JSON.stringify({ image_url: 'http://a.test/x.png', prompt: 'red' }),
    });
    expect((await answer(response)).httpStatus).toBe(400);
  });

  it('answers 413 to an image_file over 20 MB and to a body over 25 MB', async () => {
    for (const size of [21 * 1024 * 1024, 26 * 1024 * 1024]) {
      const created = await answer(
        await create(engine, { image_file: Buffer.alloc(size, 1), prompt: 'red' }),
      );
      expect(created.httpStatus).toBe(413);
      expect(created.body.status).toBe(413);
    }
    expect(engine.stats()).toMatchObject({ creates: 0, createAttempts: 2 });
  });

  it('accepts an undecodable image, then fails the task with state -7', async () => {
    const jpeg = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#f00' } })
      .jpeg()
      .toBuffer();
    for (const bytes of [Buffer.from('definitely not a png'), jpeg]) {
      const done = await pollUntilTerminal(
        engine,
        await createTask(engine, { image_file: bytes, prompt: 'red' }),
      );
      expect(done).toMatchObject({ state: -7, image_1: '', image_2: '' });
      expect(done.state_detail).not.toBe('Complete');
    }
  });

  it('fails an image wider than 4096 px with state -5', async () => {
    const huge = await subjectPng(4097, 16);
    const done = await pollUntilTerminal(
      engine,
      await createTask(engine, { image_file: huge, prompt: 'red' }),
    );
    expect(done.state).toBe(-5);
  });
});

describe('local engine: limits and result delivery', () => {
  it('answers 429 beyond the QPS budget of a sliding second, creates and polls together', async () => {
    const limited = await engineWith({ qps: 2 });
    const taskId = await createTask(limited, { image_file: subject, prompt: 'red' });
    expect((await poll(limited, taskId)).status).toBe(200);
    const refused = await answer(await poll(limited, taskId));
    expect(refused.httpStatus).toBe(429);
    expect(refused.body.status).toBe(429);
    expect((await create(limited, { image_file: subject, prompt: 'red' })).status).toBe(429);
    await sleep(1050);
    expect((await poll(limited, taskId)).status).toBe(200);
    expect(limited.stats()).toMatchObject({ rateLimited: 2, creates: 1, createAttempts: 2, polls: 3 });
  });

  it('leaves result downloads out of the QPS budget', async () => {
    const limited = await engineWith({ qps: 1 });
    const taskId = await createTask(limited, { image_file: subject, prompt: 'red', batch_size: '1' });
    await sleep(DURATION_MS + 1000);
    const done = (await answer<TaskView>(await poll(limited, taskId))).body.data!;
    expect(done.state).toBe(1);
    for (let i = 0; i < 3; i++) await download(done.image_1);
    expect(limited.stats().rateLimited).toBe(0);
  });

  it('answers 404 for a result URL once resultTtlMs has passed since completion', async () => {
    const ttlMs = 800;
    const shortLived = await engineWith({ resultTtlMs: ttlMs });
    const done = await pollUntilTerminal(
      shortLived,
      await createTask(shortLived, { image_file: subject, prompt: 'red', batch_size: '1' }),
    );
    await download(done.image_1);
    await sleep(ttlMs + 100);
    const expired = await fetch(done.image_1);
    expect(expired.status).toBe(404);
    await expired.arrayBuffer();
    expect(shortLived.stats().resultFetches[new URL(done.image_1).pathname]).toBe(2);
  });

  it('queues renders beyond maxConcurrentRenders and still finishes every task', async () => {
    const serial = await engineWith({ maxConcurrentRenders: 1 });
    const ids = await Promise.all(
      ['red', 'green', 'blue'].map((prompt) =>
        createTask(serial, { image_file: subject, prompt, batch_size: '1' }),
      ),
    );
    const done = await Promise.all(ids.map((id) => pollUntilTerminal(serial, id)));
    expect(done.map((d) => d.state)).toEqual([1, 1, 1]);
  });

  it('returns plain base64 PNG data in base64 mode', async () => {
    const inline = await engineWith({ returnType: 'base64' });
    const done = await pollUntilTerminal(
      inline,
      await createTask(inline, { image_file: subject, prompt: 'red' }),
    );
    expect(done).toMatchObject({ state: 1, return_type: 2 });
    for (const data of [done.image_1, done.image_2]) {
      expect(data).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect(await sharp(Buffer.from(data, 'base64')).metadata()).toMatchObject({
        format: 'png',
        width: 600,
      });
    }
    expect(done.image_1).not.toBe(done.image_2);
  });
});

describe('the PicWish double in front of the engine (test/support/picwish-double.ts): fault switches', () => {
  it('answers a status fault with PicWish JSON and Retry-After, and creates nothing', async () => {
    engine.faults.createFaults.push({ status: 503, message: 'busy', retryAfterSeconds: 2 });
    const faulted = await answer(await create(engine, { image_file: subject, prompt: 'red' }));
    expect(faulted.httpStatus).toBe(503);
    expect(faulted.body).toEqual({ status: 503, message: 'busy' });
    expect(faulted.headers.get('retry-after')).toBe('2');
    expect(engine.stats()).toMatchObject({ creates: 0, createAttempts: 1 });

    await createTask(engine, { image_file: subject, prompt: 'red' });
    expect(engine.stats()).toMatchObject({ creates: 1, createAttempts: 2 });
  });

  it('answers an html fault with an HTML error page, 502 unless told otherwise', async () => {
    engine.faults.createFaults.push({ kind: 'html' }, { kind: 'html', status: 504 });
    for (const status of [502, 504]) {
      const response = await create(engine, { image_file: subject, prompt: 'red' });
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await response.text()).toContain('<html>');
    }
    expect(engine.stats().creates).toBe(0);
  });

  it('keeps a hang fault unanswered until close(), which still returns promptly', async () => {
    const hanging = await engineWith({});
    hanging.faults.createFaults.push({ kind: 'hang' });
    const outcome = create(hanging, { image_file: subject, prompt: 'red' }).then(
      () => 'answered',
      () => 'connection closed',
    );
    expect(await Promise.race([outcome, sleep(400).then(() => 'still waiting')])).toBe('still waiting');
    expect(hanging.stats().createAttempts).toBe(1);
    const closeStarted = Date.now();
    await hanging.close();
    expect(Date.now() - closeStarted).toBeLessThan(1000);
    expect(await outcome).toBe('connection closed');
  });

  it('drops the connection on a reset fault', async () => {
    engine.faults.createFaults.push({ kind: 'reset' });
    await expect(create(engine, { image_file: subject, prompt: 'red' })).rejects.toThrow();
    expect(engine.stats()).toMatchObject({ creates: 0, createAttempts: 1 });
  });

  it('applies poll faults to the next polls only, counting them as polls', async () => {
    const taskId = await createTask(engine, { image_file: subject, prompt: 'red' });
    engine.faults.pollFaults.push({ status: 500 }, { kind: 'html' }, { kind: 'reset' });
    expect((await poll(engine, taskId)).status).toBe(500);
    expect((await poll(engine, taskId)).status).toBe(502);
    await expect(poll(engine, taskId)).rejects.toThrow();
    expect((await poll(engine, taskId)).status).toBe(200);
    expect(engine.stats()).toMatchObject({ polls: 4, pollsByTask: { [taskId]: 4 } });
  });

  it('ends the next tasks in the queued nextTaskStates, then succeeds again', async () => {
    engine.faults.nextTaskStates.push(-8, -2, 1);
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await createTask(engine, { image_file: subject, prompt: 'red' }));
    const states = [];
    for (const id of ids) states.push((await pollUntilTerminal(engine, id)).state);
    expect(states).toEqual([-8, -2, 1, 1]);
  });

  it('keeps tasks at state 4 while acceptCreatesWithoutProcessing is on', async () => {
    engine.faults.acceptCreatesWithoutProcessing = true;
    const taskId = await createTask(engine, { image_file: subject, prompt: 'red' });
    await sleep(DURATION_MS * 2);
    const polled = (await answer<TaskView>(await poll(engine, taskId))).body.data!;
    expect(polled).toMatchObject({ state: 4, image_1: '', completed_at: 0 });
    expect(polled.progress).toBeLessThan(100);
  });
});
