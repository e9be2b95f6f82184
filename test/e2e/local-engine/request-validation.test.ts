import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  answer,
  CREATE_PATH,
  create,
  createTask,
  engine,
  type Fields,
  poll,
  pollUntilTerminal,
  subject,
  subjectPng,
  useEngine,
} from './engine-client.js';

/** Request validation: the engine refuses bad keys and parameters as PicWish does, and fails undecodable or oversized images. */

useEngine();

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
