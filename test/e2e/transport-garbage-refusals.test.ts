import { describe } from 'vitest';
import { badInput, expectRefused, FILE_PATH, generateForm, raw, refusalTest } from './input-refusals.js';

/** Transport garbage (malformed JSON or multipart, oversized bodies, missing preflight) gets a GraphQL-shaped 4xx, never a 500 or a hang. */

const it = refusalTest();

describe('transport garbage gets a GraphQL-shaped 4xx, never a 500 or a hang', () => {
  const preflight = { 'apollo-require-preflight': 'true' };

  it('answers malformed JSON with 400 BAD_REQUEST', async ({ stack }) => {
    await expectRefused(
      stack,
      await raw(stack, '{"query": "mutation {', { 'content-type': 'application/json' }),
      {
        code: 'BAD_REQUEST',
        status: 400,
      },
    );
  });

  it('answers a multipart body that is not multipart with 400 BAD_REQUEST', async ({ stack }) => {
    await expectRefused(
      stack,
      await raw(stack, 'garbage, not parts', {
        'content-type': 'multipart/form-data; boundary=xyz',
        ...preflight,
      }),
      { code: 'BAD_REQUEST', status: 400 },
    );
  });

  it('answers a multipart content type without a boundary with 400 BAD_REQUEST', async ({ stack }) => {
    await expectRefused(
      stack,
      await raw(stack, 'whatever', { 'content-type': 'multipart/form-data', ...preflight }),
      {
        code: 'BAD_REQUEST',
        status: 400,
      },
    );
  });

  it('answers multipart with invalid JSON in operations with 400 BAD_REQUEST', async ({ stack }) => {
    const form = new FormData();
    form.set('operations', '{"query": ');
    form.set('map', '{}');
    await expectRefused(stack, await raw(stack, form, preflight), { code: 'BAD_REQUEST', status: 400 });
  });

  it('answers a map naming a path that does not exist with 400 BAD_REQUEST', async ({ stack, good }) => {
    const form = generateForm({ input: { image: { file: null }, background: { prompt: 'x' } } });
    form.set('map', JSON.stringify({ 0: ['variables.input.nowhere.file'] }));
    form.set('0', new Blob([new Uint8Array(good)]), 'a.png');
    await expectRefused(stack, await raw(stack, form, preflight), { code: 'BAD_REQUEST', status: 400 });
  });

  it('answers a map naming a variable the operation does not have with 400, the image left empty', async ({
    stack,
    good,
  }) => {
    const form = generateForm({ input: { image: {}, background: { prompt: 'x' } } });
    form.set('map', JSON.stringify({ 0: ['variables.picture'] }));
    form.set('0', new Blob([new Uint8Array(good)]), 'a.png');
    await expectRefused(stack, await raw(stack, form, preflight), {
      ...badInput('ONE_OF_VIOLATION', 'input.image'),
      status: 200,
    });
  });

  it('answers more files than a batch takes (51) with 413 PAYLOAD_TOO_LARGE', async ({ stack, good }) => {
    const form = generateForm({ input: { image: { file: null }, background: { prompt: 'x' } } });
    form.set(
      'map',
      JSON.stringify(Object.fromEntries(Array.from({ length: 51 }, (_, i) => [i, [FILE_PATH]]))),
    );
    form.set('0', new Blob([new Uint8Array(good)]), 'a.png');
    form.set('1', new Blob([new Uint8Array(good)]), 'b.png');
    await expectRefused(stack, await raw(stack, form, preflight), { code: 'PAYLOAD_TOO_LARGE', status: 413 });
  });

  // `for`, not `each`: only `for` hands the test its fixtures.
  it.for([
    ['an empty batch', '[]'],
    ['an empty object', '{}'],
    ['a batch of non-objects', '[1, 2]'],
  ])(
    'answers multipart operations holding %s with 400 BAD_REQUEST',
    async ([_what, operations], { stack }) => {
      const form = new FormData();
      form.set('operations', operations as string);
      form.set('map', '{}');
      await expectRefused(stack, await raw(stack, form, preflight), { code: 'BAD_REQUEST', status: 400 });
    },
  );

  it('answers a multipart request without a preflight header with 400 CSRF_PREVENTED', async ({ stack }) => {
    const form = generateForm({});
    form.set('map', '{}');
    await expectRefused(stack, await raw(stack, form, {}), { code: 'CSRF_PREVENTED', status: 400 });
  });

  it('answers a multipart operations field over 1 MB with 413 PAYLOAD_TOO_LARGE', async ({ stack }) => {
    const form = generateForm({ padding: 'x'.repeat(1_100_000) });
    form.set('map', '{}');
    await expectRefused(stack, await raw(stack, form, preflight), { code: 'PAYLOAD_TOO_LARGE', status: 413 });
  });

  it('answers a JSON body over 1 MB with 413 PAYLOAD_TOO_LARGE', async ({ stack }) => {
    const body = JSON.stringify({ query: '{ __typename }', variables: { padding: 'x'.repeat(1_100_000) } });
    await expectRefused(stack, await raw(stack, body, { 'content-type': 'application/json' }), {
      code: 'PAYLOAD_TOO_LARGE',
      status: 413,
    });
  });

  it('answers a body that is a JSON string instead of an object with 400 BAD_REQUEST', async ({ stack }) => {
    await expectRefused(stack, await raw(stack, '"mutation { x }"', { 'content-type': 'application/json' }), {
      code: 'BAD_REQUEST',
      status: 'any4xx',
    });
  });
});
