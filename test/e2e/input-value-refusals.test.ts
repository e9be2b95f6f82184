import { describe, expect } from 'vitest';
import { badInput, expectRefused, generateFromUrl, refusalTest, upload } from './input-refusals.js';

/** Image URLs that are not absolute http(s), and prompts and batch sizes outside the documented limits, are refused with the field they concern. */

const it = refusalTest();

describe('URLs other than absolute http(s) are refused', () => {
  const FIELD = 'input.image.url';

  it('refuses a relative URL as INVALID_URL', async ({ stack }) => {
    await expectRefused(
      stack,
      await generateFromUrl(stack, { image: { url: '/images/product.png' } }),
      badInput('INVALID_URL', FIELD),
    );
  });

  it('refuses an ftp URL as INVALID_URL', async ({ stack }) => {
    await expectRefused(
      stack,
      await generateFromUrl(stack, { image: { url: 'ftp://example.com/product.png' } }),
      badInput('INVALID_URL', FIELD),
    );
  });

  it('refuses a data: URL as INVALID_URL', async ({ stack, good }) => {
    await expectRefused(
      stack,
      await generateFromUrl(stack, { image: { url: `data:image/png;base64,${good.toString('base64')}` } }),
      badInput('INVALID_URL', FIELD),
    );
  });

  it('refuses a URL carrying credentials as INVALID_URL', async ({ stack }) => {
    await expectRefused(
      stack,
      await generateFromUrl(stack, { image: { url: 'https://user:secret@example.com/p.png' } }),
      badInput('INVALID_URL', FIELD),
    );
  });
});

describe('prompts and batch sizes outside the documented limits are refused', () => {
  it('refuses a blank prompt as PROMPT_EMPTY', async ({ stack }) => {
    await expectRefused(
      stack,
      await generateFromUrl(stack, { background: { prompt: ' \n\t ' } }),
      badInput('PROMPT_EMPTY', 'input.background.prompt'),
    );
  });

  it('refuses a 1025-character prompt as PROMPT_TOO_LONG', async ({ stack }) => {
    await expectRefused(
      stack,
      await generateFromUrl(stack, { background: { prompt: 'a'.repeat(1025) } }),
      badInput('PROMPT_TOO_LONG', 'input.background.prompt'),
    );
  });

  it('refuses a 1025-character negative prompt as NEGATIVE_PROMPT_TOO_LONG', async ({ stack }) => {
    await expectRefused(
      stack,
      await generateFromUrl(stack, { negativePrompt: 'b'.repeat(1025) }),
      badInput('NEGATIVE_PROMPT_TOO_LONG', 'input.negativePrompt'),
    );
  });

  it('refuses batchSize 3 as INVALID_BATCH_SIZE', async ({ stack }) => {
    await expectRefused(
      stack,
      await generateFromUrl(stack, { batchSize: 3 }),
      badInput('INVALID_BATCH_SIZE', 'input.batchSize'),
    );
  });

  it('refuses batchSize 0 as INVALID_BATCH_SIZE', async ({ stack }) => {
    await expectRefused(
      stack,
      await generateFromUrl(stack, { batchSize: 0 }),
      badInput('INVALID_BATCH_SIZE', 'input.batchSize'),
    );
  });

  it('lists every problem at once, the first one repeated as reason and field', async ({ stack }) => {
    const answer = await generateFromUrl(stack, {
      background: { prompt: '  ' },
      negativePrompt: 'n'.repeat(1025),
      batchSize: 5,
    });
    await expectRefused(stack, answer, badInput('PROMPT_EMPTY', 'input.background.prompt'));
    const problems = answer.body.errors?.[0]?.extensions?.problems as { reason: string; field: string }[];
    expect(problems.map(({ reason, field }) => [reason, field])).toEqual([
      ['PROMPT_EMPTY', 'input.background.prompt'],
      ['NEGATIVE_PROMPT_TOO_LONG', 'input.negativePrompt'],
      ['INVALID_BATCH_SIZE', 'input.batchSize'],
    ]);
  });

  it('checks the prompt before reading the upload, so a bad prompt with a good file is still refused', async ({
    stack,
    good,
  }) => {
    await expectRefused(
      stack,
      await upload(stack, good, { background: { prompt: '   ' } }),
      badInput('PROMPT_EMPTY', 'input.background.prompt'),
    );
  });
});
