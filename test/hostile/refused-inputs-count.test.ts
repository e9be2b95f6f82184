import { describe, expect } from 'vitest';
import { productPhotoJpeg, transparentPng } from '../support/fixtures.js';
import { type TestStack, uploadOperation } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import { bearer, TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';

/**
 * #27 item 2: an input refused after its image was read counts toward its tenant's per-minute
 * limit like a creation, so a flood of bad images runs into RATE_LIMITED (and, once the window
 * is full, is refused before any image is read) without touching another tenant's window.
 */
const GENERATE = `mutation($file: Upload!, $prompt: String!) {
  generateBackground(input: { image: { file: $file }, background: { prompt: $prompt } }) { id }
}`;

const it = stackTest({ env: { GATEWAY_API_KEYS: TWO_TENANT_KEYS, TENANT_RATE_LIMIT_PER_MINUTE: '3' } });

async function send(stack: TestStack, key: string, bytes: Buffer, prompt = 'a beach') {
  const answer = await uploadOperation(
    stack.url,
    GENERATE,
    { file: null, prompt },
    { variablePath: 'variables.file', bytes },
    { 'apollo-require-preflight': 'true', ...bearer(key) },
  );
  return (answer.body.errors ?? []).map((error) => ({
    code: error.extensions?.code,
    reasons: ((error.extensions?.problems ?? []) as { reason: string }[]).map((p) => p.reason),
  }));
}

describe('refused inputs and the per-minute limit', () => {
  it('counts each input refused after its image was read, then refuses before reading any more', async ({
    stack,
  }) => {
    const jpeg = await productPhotoJpeg(400, 300);
    for (let i = 0; i < 3; i += 1) {
      expect(await send(stack, TENANTS.alpha, jpeg)).toEqual([
        { code: 'BAD_USER_INPUT', reasons: ['NOT_PNG'] },
      ]);
    }
    // The window is full: a good image is refused before anything is read or spent.
    expect(await send(stack, TENANTS.alpha, await transparentPng(400, 300))).toEqual([
      { code: 'RATE_LIMITED', reasons: [] },
    ]);
    // A wrong parameter is still named, but the image behind it is no longer read to add its own.
    expect(await send(stack, TENANTS.alpha, jpeg, '')).toEqual([
      { code: 'BAD_USER_INPUT', reasons: ['PROMPT_EMPTY'] },
    ]);
    // Another tenant's window is its own.
    expect(await send(stack, TENANTS.beta, jpeg, '')).toEqual([
      { code: 'BAD_USER_INPUT', reasons: ['PROMPT_EMPTY', 'NOT_PNG'] },
    ]);
  });
});
