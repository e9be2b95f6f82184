import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { LocalEngineOptions } from '../../../src/local-engine/index.js';
import type { TaskView } from '../../../src/local-engine/tasks.js';
import { type PicWishDouble, startPicWishDouble } from '../../support/picwish-double.js';

/**
 * What the local engine's specs share: its PicWish contract driven through the suite's PicWish
 * double, so that its proxy counts the calls (`stats()`), and the file's engine.
 */

export interface Answer<T> {
  httpStatus: number;
  headers: Headers;
  body: { status: number; message: string; data?: T };
}

export const CREATE_PATH = '/api/tasks/visual/background';
export const DURATION_MS = 300;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A transparent canvas with an opaque green block standing in its lower middle. */
export function subjectPng(width: number, height: number): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect x="${width * 0.4}" y="${height * 0.3}" width="${width * 0.2}" height="${height * 0.5}" fill="#208040"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

export type Fields = Record<string, string | Buffer>;

export function formOf(fields: Fields): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, new Blob([new Uint8Array(value)], { type: 'image/png' }), 'subject.png');
  }
  return form;
}

export async function answer<T>(response: Response): Promise<Answer<T>> {
  return {
    httpStatus: response.status,
    headers: response.headers,
    body: (await response.json()) as Answer<T>['body'],
  };
}

export function create(engine: PicWishDouble, fields: Fields, key = engine.apiKey): Promise<Response> {
  return fetch(`${engine.url}${CREATE_PATH}`, {
    method: 'POST',
    headers: { 'X-API-KEY': key },
    body: formOf(fields),
  });
}

export async function createTask(engine: PicWishDouble, fields: Fields): Promise<string> {
  const created = await answer<{ task_id: string }>(await create(engine, fields));
  expect(created.httpStatus).toBe(200);
  expect(created.body).toMatchObject({ status: 200, data: { task_id: expect.any(String) } });
  return created.body.data!.task_id;
}

export function poll(engine: PicWishDouble, taskId: string, key = engine.apiKey): Promise<Response> {
  return fetch(`${engine.url}${CREATE_PATH}/${taskId}`, { headers: { 'X-API-KEY': key } });
}

/**
 * Polls until the task ends. `beforeEachPoll` runs first each time (a spec on a manual clock moves
 * it there); the real-time deadline only guards against a task that never ends.
 */
export async function pollUntilTerminal(
  engine: PicWishDouble,
  taskId: string,
  seen: TaskView[] = [],
  beforeEachPoll: () => void = () => {},
): Promise<TaskView> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    beforeEachPoll();
    const polled = await answer<TaskView>(await poll(engine, taskId));
    expect(polled.httpStatus).toBe(200);
    const data = polled.body.data!;
    seen.push(data);
    if (data.state === 1 || data.state < 0) return data;
    await sleep(20);
  }
  throw new Error(`task ${taskId} did not finish in time`);
}

export async function download(url: string): Promise<Buffer> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('image/png');
  return Buffer.from(await response.arrayBuffer());
}

export async function rgbAt(png: Buffer, x: number, y: number): Promise<[number, number, number]> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return [data[i]!, data[i + 1]!, data[i + 2]!];
}

export async function meanAbsoluteDifference(a: Buffer, b: Buffer): Promise<number> {
  const [ra, rb] = await Promise.all([sharp(a).raw().toBuffer(), sharp(b).raw().toBuffer()]);
  let total = 0;
  for (let i = 0; i < ra.length; i++) total += Math.abs(ra[i]! - rb[i]!);
  return total / ra.length;
}

/** Renders a prompt and returns the first image's top-left backdrop pixel. */
export async function cornerFor(engine: PicWishDouble, fields: Fields): Promise<[number, number, number]> {
  const done = await pollUntilTerminal(engine, await createTask(engine, fields));
  expect(done.state).toBe(1);
  return rgbAt(await download(done.image_1), 2, 2);
}

/** A clock that moves only when told, for the engine's `clock` option: no spec sleeps through a window. */
export function manualClock(start = Date.now()): { now: () => number; advance: (ms: number) => void } {
  let now = start;
  return {
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
  };
}

const started: PicWishDouble[] = [];
export async function engineWith(options: LocalEngineOptions): Promise<PicWishDouble> {
  const engine = await startPicWishDouble({ durationMs: DURATION_MS, ...options });
  started.push(engine);
  return engine;
}

/** The file's engine (with one catalogued scene type) and its sample subjects, set by `useEngine`. */
export let engine: PicWishDouble;
export let subject: Buffer;
export let wide: Buffer;

/**
 * Starts the file's engine before its tests, clears its fault switches and counts after each test,
 * and closes it and every `engineWith` engine after them.
 */
export function useEngine(): void {
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
}
