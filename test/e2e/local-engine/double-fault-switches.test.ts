import { describe, expect, it } from 'vitest';
import type { TaskView } from '../../../src/local-engine/tasks.js';
import {
  answer,
  create,
  createTask,
  DURATION_MS,
  engine,
  engineWith,
  poll,
  pollUntilTerminal,
  sleep,
  subject,
  useEngine,
} from './engine-client.js';

/** The PicWish double’s fault switches (test/support/picwish-double.ts): status, html, hang, reset, poll faults and forced task states. */

useEngine();

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
