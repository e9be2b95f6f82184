import { describe, expect } from 'vitest';
import { productPhotoJpeg, transparentPng } from '../support/fixtures.js';
import { type TestStack, uploadOperation } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';

/**
 * Refusals a person can act on: independent problems of one input come in one answer (the first
 * stays the top-level `reason`/`field`, as before), and a foreground that is not a transparent PNG
 * is refused with the way to use it anyway (`removeBackground` and the formats it takes).
 */

const GENERATE = `mutation Generate($file: Upload!, $prompt: String!) {
  generateBackground(input: { image: { file: $file }, background: { prompt: $prompt } }) { id }
}`;

interface Refusal {
  message: string;
  extensions: {
    code: string;
    reason: string;
    field: string;
    problems: { reason: string; field: string; message: string }[];
  };
}

const it = stackTest({ env: { PICWISH_API_KEY: '' } });

async function refuse(
  stack: TestStack,
  bytes: Buffer,
  prompt: string,
  name = 'foreground.png',
): Promise<Refusal> {
  const { body } = await uploadOperation(
    stack.url,
    GENERATE,
    { file: null, prompt },
    { variablePath: 'variables.file', bytes, name },
  );
  expect(body.data?.generateBackground ?? null).toBeNull();
  const [first] = (body.errors ?? []) as unknown as Refusal[];
  if (!first) throw new Error(`no error: ${JSON.stringify(body)}`);
  return first;
}

describe('refusals', () => {
  it('a 100-px image with a 2000-character prompt reports both, the prompt first', async ({ stack }) => {
    const refusal = await refuse(stack, await transparentPng(100, 100), 'p'.repeat(2000));
    expect(refusal.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'PROMPT_TOO_LONG',
      field: 'input.background.prompt',
    });
    expect(refusal.extensions.problems.map(({ reason, field }) => ({ reason, field }))).toEqual([
      { reason: 'PROMPT_TOO_LONG', field: 'input.background.prompt' },
      { reason: 'IMAGE_TOO_SMALL', field: 'input.image.file' },
    ]);
    expect(refusal.extensions.problems[1]?.message).toMatch(/100×100 px.*at least 256 px/);
  });

  it('a good image with a bad prompt reports the prompt alone', async ({ stack }) => {
    const refusal = await refuse(stack, await transparentPng(600, 400), 'p'.repeat(2000));
    expect(refusal.extensions.problems.map((p) => p.reason)).toEqual(['PROMPT_TOO_LONG']);
  });

  it('NOT_PNG names removeBackground and the formats it takes', async ({ stack }) => {
    const refusal = await refuse(stack, await productPhotoJpeg(), 'white marble', 'photo.jpg');
    expect(refusal.extensions.reason).toBe('NOT_PNG');
    expect(refusal.message).toContain('removeBackground: true');
    expect(refusal.message).toContain('JPEG, PNG or WebP');
  });

  it('NOT_TRANSPARENT names removeBackground and the formats it takes', async ({ stack }) => {
    const sharp = (await import('sharp')).default;
    const opaque = await sharp({ create: { width: 600, height: 400, channels: 3, background: '#ffffff' } })
      .png()
      .toBuffer();
    const refusal = await refuse(stack, opaque, 'white marble');
    expect(refusal.extensions.reason).toBe('NOT_TRANSPARENT');
    expect(refusal.message).toContain('removeBackground: true');
    expect(refusal.message).toContain('JPEG, PNG or WebP');
  });
});
