import { describe, expect } from 'vitest';
import { transparentPng } from '../support/fixtures.js';
import { type TestStack, uploadOperation } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import { settled, TASK_FIELDS, type TaskView } from '../support/task-ops.js';

/** Issue #15: `generateBackground(waitSeconds:)` answers with the final task, or the unfinished one on timeout. */

const GENERATE_AND_WAIT = `mutation Generate($file: Upload!, $wait: Int) {
  generateBackground(input: { image: { file: $file }, background: { prompt: "a sunny beach" } }, waitSeconds: $wait) {
    ${TASK_FIELDS}
  }
}`;

async function generateAndWait(stack: TestStack, wait: number) {
  return uploadOperation(
    stack.url,
    GENERATE_AND_WAIT,
    { file: null, wait },
    { variablePath: 'variables.file', bytes: await transparentPng(400, 300) },
  );
}

// A fresh gateway per test: the last one counts the creates PicWish saw.
const it = stackTest({ engine: { durationMs: 2_000 } }, 'test');

describe('wait mode', () => {
  it('returns SUCCEEDED with images in one call when the task finishes within waitSeconds', async ({
    stack,
  }) => {
    const answer = await generateAndWait(stack, 10);
    expect(answer.body.errors).toBeUndefined();
    const task = (answer.body.data as { generateBackground: TaskView }).generateBackground;
    expect(task.state).toBe('SUCCEEDED');
    expect(task.images).toHaveLength(2);
  });

  it('returns the unfinished task when waitSeconds runs out, and the task still finishes', async ({
    stack,
  }) => {
    const answer = await generateAndWait(stack, 1);
    expect(answer.body.errors).toBeUndefined();
    const task = (answer.body.data as { generateBackground: TaskView }).generateBackground;
    expect(['QUEUED', 'PROCESSING']).toContain(task.state);
    expect((await settled(stack, task.id)).state).toBe('SUCCEEDED');
  });

  it('refuses waitSeconds outside 0..60 as BAD_USER_INPUT / INVALID_WAIT_SECONDS and creates nothing', async ({
    stack,
  }) => {
    for (const wait of [-1, 61]) {
      const answer = await generateAndWait(stack, wait);
      expect(answer.body.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        reason: 'INVALID_WAIT_SECONDS',
        field: 'waitSeconds',
      });
    }
    expect(stack.engine.stats().creates).toBe(0);
  });
});
