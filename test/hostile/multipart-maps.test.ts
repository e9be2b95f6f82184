import { beforeAll, describe, expect } from 'vitest';
import { generateUpload, paddedPng } from '../support/fixtures.js';
import type { TestStack } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';

/**
 * Issue #27 item 7: multipart maps a client can get wrong. Two files mapped to one variable are
 * answered at once with BAD_USER_INPUT (they hung until the connection was reset), and a file
 * mapped onto a String variable gets a clear error that does not show the internal Upload object.
 */
const it = stackTest();

let png: Buffer;
beforeAll(async () => {
  // Large enough that the first file cannot sit in the parser's buffers while the second is read.
  png = await paddedPng(4_000_000, 512, 512);
});

async function multipart(
  stack: TestStack,
  query: string,
  variables: Record<string, unknown>,
  map: Record<string, string[]>,
) {
  const form = new FormData();
  form.set('operations', JSON.stringify({ query, variables }));
  form.set('map', JSON.stringify(map));
  for (const name of Object.keys(map))
    form.set(name, new Blob([new Uint8Array(png)], { type: 'image/png' }), `${name}.png`);
  const response = await fetch(`${stack.url}/graphql`, {
    method: 'POST',
    body: form,
    headers: { 'apollo-require-preflight': 'true' },
    // Without the fix the answer never came: fail in seconds rather than at the test timeout.
    signal: AbortSignal.timeout(15_000),
  });
  return {
    status: response.status,
    body: (await response.json()) as {
      data?: unknown;
      errors?: { message: string; extensions?: Record<string, unknown> }[];
    },
  };
}

describe('multipart maps', () => {
  it('answers two files mapped to one variable at once with BAD_USER_INPUT', async ({ stack }) => {
    const answer = await multipart(
      stack,
      generateUpload('id'),
      { file: null },
      { 0: ['variables.file'], 1: ['variables.file'] },
    );
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'INVALID_VARIABLE',
      field: 'file',
    });
    expect(answer.body.errors?.[0]?.message).toContain('variables.file');
    // The connection is still usable for the next request, and nothing was created.
    const count = await stack.gql<{ backgroundTasks: { totalCount: number } }>(
      '{ backgroundTasks(first: 1) { totalCount } }',
    );
    expect(count.body.data?.backgroundTasks.totalCount).toBe(0);
  });

  it('says a file was sent for a String variable, without showing the internal Upload object', async ({
    stack,
  }) => {
    const answer = await multipart(
      stack,
      generateUpload('id'),
      { file: null, prompt: null },
      { 0: ['variables.file'], 1: ['variables.prompt'] },
    );
    const error = answer.body.errors?.[0];
    expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'INVALID_VARIABLE' });
    expect(error?.message).toMatch(/file/i);
    expect(error?.message).toContain('String');
    expect(JSON.stringify(answer.body)).not.toMatch(/resolve|reject|promise|\[function/i);
  });
});
