import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { TaskView } from '../../../src/local-engine/tasks.js';
import {
  answer,
  createTask,
  DURATION_MS,
  download,
  engine,
  meanAbsoluteDifference,
  poll,
  pollUntilTerminal,
  subject,
  useEngine,
  wide,
} from './engine-client.js';

/** A task from create to result: the PicWish states, the result images and their sizes, and unknown ids. */

useEngine();

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
