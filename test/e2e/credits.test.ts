import { afterEach, describe, expect, it } from 'vitest';
import { generateUpload, transparentPng } from '../support/fixtures.js';
import { startStack, type TestStack, uploadOperation } from '../support/harness.js';
import { settled } from '../support/task-ops.js';

/** Issue #15: tasks say what they cost before (`estimatedCredits`) and what they spent (`creditsCharged`). */

const CREDITS =
  'query Credits($id: ID!) { backgroundTask(id: $id) { state estimatedCredits creditsCharged } }';

interface Credits {
  id: string;
  state: string;
  estimatedCredits: number;
  creditsCharged: number | null;
}

async function create(stack: TestStack, batch: number): Promise<Credits> {
  const answer = await uploadOperation(
    stack.url,
    generateUpload('id state estimatedCredits creditsCharged'),
    { file: null, batch },
    { variablePath: 'variables.file', bytes: await transparentPng(400, 300) },
  );
  return (answer.body.data as { generateBackground: Credits }).generateBackground;
}

describe('credits', () => {
  let stack: TestStack | null = null;
  afterEach(async () => {
    await stack?.close();
    stack = null;
  });

  it('estimates 3 credits per image by default and charges them once the task succeeds', async () => {
    stack = await startStack({ engine: { durationMs: 300 } });
    const task = await create(stack, 2);
    expect(task).toMatchObject({ state: 'QUEUED', estimatedCredits: 6, creditsCharged: null });
    await settled(stack, task.id);
    const done = await stack.gql<{ backgroundTask: Credits }>(CREDITS, { id: task.id });
    expect(done.body.data?.backgroundTask).toEqual({
      state: 'SUCCEEDED',
      estimatedCredits: 6,
      creditsCharged: 6,
    });
  });

  it('follows PICWISH_CREDITS_PER_IMAGE and charges nothing for a cancelled task', async () => {
    stack = await startStack({ engine: { durationMs: 5_000 }, env: { PICWISH_CREDITS_PER_IMAGE: '5' } });
    const task = await create(stack, 1);
    expect(task.estimatedCredits).toBe(5);
    const cancelled = await stack.gql<{ cancelBackgroundTask: Credits }>(
      'mutation Cancel($id: ID!) { cancelBackgroundTask(id: $id) { state estimatedCredits creditsCharged } }',
      { id: task.id },
    );
    expect(cancelled.body.data?.cancelBackgroundTask).toEqual({
      state: 'CANCELLED',
      estimatedCredits: 5,
      creditsCharged: 0,
    });
  });
});
