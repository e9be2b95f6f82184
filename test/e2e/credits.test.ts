import { describe, expect } from 'vitest';
import { generateUpload, transparentPng } from '../support/fixtures.js';
import { type TestStack, uploadOperation } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
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

// One gateway per test, each with its own settings.
const itByDefault = stackTest({ engine: { durationMs: 300 } }, 'test');
const itFiveCredits = stackTest(
  { engine: { durationMs: 5_000 }, env: { PICWISH_CREDITS_PER_IMAGE: '5' } },
  'test',
);

describe('credits', () => {
  itByDefault(
    'estimates 3 credits per image by default and charges them once the task succeeds',
    async ({ stack }) => {
      const task = await create(stack, 2);
      expect(task).toMatchObject({ state: 'QUEUED', estimatedCredits: 6, creditsCharged: null });
      await settled(stack, task.id);
      const done = await stack.gql<{ backgroundTask: Credits }>(CREDITS, { id: task.id });
      expect(done.body.data?.backgroundTask).toEqual({
        state: 'SUCCEEDED',
        estimatedCredits: 6,
        creditsCharged: 6,
      });
    },
  );

  itFiveCredits(
    'follows PICWISH_CREDITS_PER_IMAGE and charges nothing for a cancelled task',
    async ({ stack }) => {
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
    },
  );
});
