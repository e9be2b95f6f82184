import { expect } from 'vitest';
import { GENERATE_INPUT, transparentPng } from '../support/fixtures.js';
import { type GraphQLErrorShape, type TestStack, uploadOperation } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';

/**
 * What the input-refusal specs share: bad input is refused with a precise BAD_USER_INPUT (or a 4xx
 * for transport garbage) before anything reaches PicWish: every case checks the engine saw no
 * create and the gateway still answers /healthz.
 */

export const FILE_PATH = 'variables.input.image.file';
export const URL = 'https://example.com/product.png';

export type Answer = { status: number; body: { data?: unknown; errors?: GraphQLErrorShape[] } };

/**
 * A `test` with the file's gateway (`stack`) and a good 300×300 transparent PNG (`good`); after
 * the file's tests it checks that nothing refused reached PicWish later either.
 */
export function refusalTest() {
  const it = stackTest({
    engine: { durationMs: 600 },
    env: { TENANT_RATE_LIMIT_PER_MINUTE: '100000' },
  }).extend<{ good: Buffer }>({
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern.
    good: [async ({}, use) => use(await transparentPng(300, 300)), { scope: 'file' }],
  });
  it.afterAll(async ({ stack }) => {
    // Nothing refused here may reach PicWish later either (a task queued by mistake would).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(stack.engine.stats().createAttempts).toBe(0);
  });
  return it;
}

export function upload(
  stack: TestStack,
  bytes: Buffer,
  variables: Record<string, unknown> = {},
): Promise<Answer> {
  return uploadOperation(
    stack.url,
    GENERATE_INPUT,
    { input: { image: { file: null }, background: { prompt: 'white marble' }, ...variables } },
    { variablePath: FILE_PATH, bytes },
  );
}

export function generateFromUrl(stack: TestStack, input: Record<string, unknown>): Promise<Answer> {
  return stack.gql(GENERATE_INPUT, {
    input: { image: { url: URL }, background: { prompt: 'white marble' }, ...input },
  });
}

export async function raw(
  stack: TestStack,
  body: BodyInit,
  headers: Record<string, string>,
): Promise<Answer> {
  const response = await fetch(`${stack.url}/graphql`, { method: 'POST', body, headers });
  return { status: response.status, body: JSON.parse(await response.text()) };
}

/** The refusal is exactly this, nothing was sent upstream, and the gateway is still healthy. */
export async function expectRefused(
  stack: TestStack,
  answer: Answer,
  expected: { code: string; reason?: string; field?: string; status?: number | 'any4xx' },
): Promise<void> {
  expect(answer.body.data ?? null, JSON.stringify(answer.body)).toSatisfy(
    (data: unknown) => data === null || (data as Record<string, unknown>).generateBackground === null,
  );
  const [error] = answer.body.errors ?? [];
  expect(error, JSON.stringify(answer.body)).toBeDefined();
  expect(error?.message).toEqual(expect.any(String));
  expect(error?.extensions?.code).toBe(expected.code);
  if (expected.reason !== undefined) expect(error?.extensions?.reason).toBe(expected.reason);
  if (expected.field !== undefined) expect(error?.extensions?.field).toBe(expected.field);
  if (expected.status === 'any4xx') {
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
  } else if (expected.status !== undefined) {
    expect(answer.status).toBe(expected.status);
  }
  expect(stack.engine.stats().createAttempts).toBe(0);
  const health = await fetch(`${stack.url}/healthz`);
  expect(health.status).toBe(200);
}

/** A multipart form whose `operations` run GENERATE_INPUT with `variables`; the test adds `map` and files. */
export function generateForm(variables: unknown): FormData {
  const form = new FormData();
  form.set('operations', JSON.stringify({ query: GENERATE_INPUT, variables }));
  return form;
}

export const badInput = (reason: string, field: string) => ({ code: 'BAD_USER_INPUT', reason, field });
