import { FormData, fetch } from 'undici';
import { beforeAll, describe, expect } from 'vitest';
import { paddedPng, transparentPng } from '../support/fixtures.js';
import type { TestStack } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import { bearer, TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';

/**
 * Refused uploads must reach a browser as an answer, not a reset: the gateway reads (and throws
 * away) the rest of a refused body before it lets go, so a fetch client that is still sending
 * reads the status and `extensions.code`. undici's fetch is the client, as in Node and close to
 * a browser's; each refusal is tried ten times, since a reset is a race.
 */

const GENERATE =
  'mutation($f: Upload!) { generateBackground(input: { image: { file: $f }, background: { prompt: "x" } }) { id } }';

const it = stackTest({ env: { GATEWAY_API_KEYS: TWO_TENANT_KEYS } });

let png: Buffer;
beforeAll(async () => {
  png = await transparentPng(400, 300);
});

/**
 * A multipart upload whose file is a valid PNG of `bytes` (padded with a chunk before IEND: bytes
 * after IEND would be refused from there, #27).
 */
async function upload(bytes: number): Promise<FormData> {
  const form = new FormData();
  form.set('operations', JSON.stringify({ query: GENERATE, variables: { f: null } }));
  form.set('map', JSON.stringify({ 0: ['variables.f'] }));
  const file = bytes > png.length ? await paddedPng(bytes, 400, 300) : png;
  form.set('0', new Blob([new Uint8Array(file)], { type: 'image/png' }), 'big.png');
  return form;
}

/** Sends and reads the answer; a network error comes back as status 0 with the error's text. */
async function send(
  stack: TestStack,
  body: FormData | string,
  headers: Record<string, string>,
  method = 'POST',
): Promise<{ status: number; code: string | undefined; reason?: string; contentType: string | null }> {
  try {
    const response = await fetch(`${stack.url}/graphql`, { method, body, headers });
    const text = await response.text();
    const extensions = (
      JSON.parse(text) as { errors?: { extensions?: { code?: string; reason?: string } }[] }
    ).errors?.[0]?.extensions;
    return {
      status: response.status,
      code: extensions?.code,
      ...(extensions?.reason ? { reason: extensions.reason } : {}),
      contentType: response.headers.get('content-type'),
    };
  } catch (error) {
    return { status: 0, code: String((error as { cause?: unknown }).cause ?? error), contentType: null };
  }
}

const MB = 1024 * 1024;
const preflight = { 'apollo-require-preflight': 'true' };

describe('refused uploads, as a fetch client reads them', () => {
  // `for`, not `each`: only `for` hands the test its context, and with it the `stack` fixture.
  it.for<[string, number, Record<string, string>, number, { code: string; reason?: string }]>([
    ['without a key', 5 * MB, preflight, 401, { code: 'UNAUTHENTICATED' }],
    ['without the preflight header', 5 * MB, bearer(TENANTS.alpha), 400, { code: 'CSRF_PREVENTED' }],
    [
      'with a file over 20 MB',
      21 * MB,
      { ...preflight, ...bearer(TENANTS.alpha) },
      200,
      { code: 'BAD_USER_INPUT', reason: 'FILE_TOO_LARGE' },
    ],
  ])(
    'answers 10 of 10 uploads %s with their status and code',
    async ([_name, bytes, headers, status, expected], { stack }) => {
      const form = await upload(bytes);
      const answers = [];
      for (let i = 0; i < 10; i++) answers.push(await send(stack, form, headers));
      expect(answers).toEqual(
        Array.from({ length: 10 }, () => expect.objectContaining({ status, ...expected })),
      );
    },
  );

  it('keeps the connection usable after a file refused from its first bytes (#27): 10 of 10 answered', async ({
    stack,
  }) => {
    // 2 MB that are not a PNG: refused at the first byte, with most of the body still to come.
    const form = new FormData();
    form.set('operations', JSON.stringify({ query: GENERATE, variables: { f: null } }));
    form.set('map', JSON.stringify({ 0: ['variables.f'] }));
    form.set('0', new Blob([new Uint8Array(2 * MB)], { type: 'image/png' }), 'zeros.png');
    const answers = [];
    for (let i = 0; i < 10; i++)
      answers.push(await send(stack, form, { ...preflight, ...bearer(TENANTS.alpha) }));
    expect(answers).toEqual(
      Array.from({ length: 10 }, () =>
        expect.objectContaining({ status: 200, code: 'BAD_USER_INPUT', reason: 'NOT_PNG' }),
      ),
    );
  });

  it('answers more files than a batch takes (51) with 413 PAYLOAD_TOO_LARGE, never REQUEST_ENTITY_TOO_LARGE', async ({
    stack,
  }) => {
    const form = await upload(1 * MB);
    form.set(
      'map',
      JSON.stringify(Object.fromEntries(Array.from({ length: 51 }, (_, i) => [i, [`variables.f${i}`]]))),
    );
    form.set('1', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'second.png');
    const answer = await send(stack, form, { ...preflight, ...bearer(TENANTS.alpha) });
    expect(answer).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
  });

  it('answers an unsupported content type with 415 and a GraphQL-shaped error', async ({ stack }) => {
    const answer = await send(stack, '<query/>', {
      'content-type': 'application/xml',
      ...bearer(TENANTS.alpha),
    });
    expect(answer.status).toBe(415);
    expect(answer.code).toEqual(expect.any(String));
    expect(answer.contentType).toMatch(/json/);
  });

  it('answers a wrong method with 405 and a GraphQL-shaped error', async ({ stack }) => {
    const answer = await send(
      stack,
      '{}',
      { 'content-type': 'application/json', ...bearer(TENANTS.alpha) },
      'PUT',
    );
    expect(answer.status).toBe(405);
    expect(answer.code).toEqual(expect.any(String));
  });
});
