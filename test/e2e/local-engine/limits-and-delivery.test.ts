import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  answer,
  create,
  createTask,
  DURATION_MS,
  download,
  engineWith,
  manualClock,
  poll,
  pollUntilTerminal,
  subject,
  useEngine,
} from './engine-client.js';

/** Limits and result delivery: the QPS budget, result expiry, queued renders and base64 results. */

useEngine();

describe('local engine: limits and result delivery', () => {
  it('answers 429 beyond the QPS budget of a sliding second, creates and polls together', async () => {
    const clock = manualClock();
    const limited = await engineWith({ qps: 2, clock: clock.now });
    const taskId = await createTask(limited, { image_file: subject, prompt: 'red' });
    expect((await poll(limited, taskId)).status).toBe(200);
    const refused = await answer(await poll(limited, taskId));
    expect(refused.httpStatus).toBe(429);
    expect(refused.body.status).toBe(429);
    expect((await create(limited, { image_file: subject, prompt: 'red' })).status).toBe(429);
    clock.advance(999);
    expect((await poll(limited, taskId)).status).toBe(429);
    clock.advance(51);
    expect((await poll(limited, taskId)).status).toBe(200);
    expect(limited.stats()).toMatchObject({ rateLimited: 3, creates: 1, createAttempts: 2, polls: 4 });
  });

  it('leaves result downloads out of the QPS budget', async () => {
    const clock = manualClock();
    const limited = await engineWith({ qps: 1, clock: clock.now });
    const taskId = await createTask(limited, { image_file: subject, prompt: 'red', batch_size: '1' });
    // Each poll in a second of its own, so none is refused.
    const done = await pollUntilTerminal(limited, taskId, [], () => clock.advance(1_000));
    expect(done.state).toBe(1);
    for (let i = 0; i < 3; i++) await download(done.image_1);
    expect(limited.stats().rateLimited).toBe(0);
  });

  it('answers 404 for a result URL once resultTtlMs has passed since completion', async () => {
    const ttlMs = 800;
    const clock = manualClock();
    const createdMs = clock.now();
    const shortLived = await engineWith({ resultTtlMs: ttlMs, clock: clock.now });
    const done = await pollUntilTerminal(
      shortLived,
      await createTask(shortLived, { image_file: subject, prompt: 'red', batch_size: '1' }),
      [],
      () => clock.advance(DURATION_MS),
    );
    // Results live `resultTtlMs` from completion: the last millisecond still serves them.
    const expiresMs = createdMs + done.time_elapsed + ttlMs;
    await download(done.image_1);
    clock.advance(expiresMs - 1 - clock.now());
    await download(done.image_1);
    clock.advance(1);
    const expired = await fetch(done.image_1);
    expect(expired.status).toBe(404);
    await expired.arrayBuffer();
    expect(shortLived.stats().resultFetches[new URL(done.image_1).pathname]).toBe(3);
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
