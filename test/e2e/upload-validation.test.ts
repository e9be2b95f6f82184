import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { DEFAULT_SCENE_TYPES } from '../../src/config/scene-types.js';
import { startGateway } from '../../src/gateway/app.js';
import { GENERATE_INPUT, paddedPng, transparentPng } from '../support/fixtures.js';
import {
  eventually,
  type GraphQLErrorShape,
  startStack,
  type TestStack,
  uploadOperation,
} from '../support/harness.js';

/**
 * Bad input is refused with a precise BAD_USER_INPUT (or a 4xx for transport garbage) before
 * anything reaches PicWish: every case checks the engine saw no create and the gateway still
 * answers /healthz.
 */

const FILE_PATH = 'variables.input.image.file';
const URL = 'https://example.com/product.png';

type Answer = { status: number; body: { data?: unknown; errors?: GraphQLErrorShape[] } };

let stack: TestStack;
let good: Buffer;

beforeAll(async () => {
  stack = await startStack({
    engine: { durationMs: 600 },
    env: { TENANT_RATE_LIMIT_PER_MINUTE: '100000' },
  });
  good = await transparentPng(300, 300);
});

afterAll(async () => {
  // Nothing refused here may reach PicWish later either (a task queued by mistake would).
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(stack.engine.stats().createAttempts).toBe(0);
  await stack.close();
});

function upload(bytes: Buffer, variables: Record<string, unknown> = {}): Promise<Answer> {
  return uploadOperation(
    stack.url,
    GENERATE_INPUT,
    { input: { image: { file: null }, background: { prompt: 'white marble' }, ...variables } },
    { variablePath: FILE_PATH, bytes },
  );
}

function generateFromUrl(input: Record<string, unknown>): Promise<Answer> {
  return stack.gql(GENERATE_INPUT, {
    input: { image: { url: URL }, background: { prompt: 'white marble' }, ...input },
  });
}

async function raw(body: BodyInit, headers: Record<string, string>): Promise<Answer> {
  const response = await fetch(`${stack.url}/graphql`, { method: 'POST', body, headers });
  return { status: response.status, body: JSON.parse(await response.text()) };
}

/** The refusal is exactly this, nothing was sent upstream, and the gateway is still healthy. */
async function expectRefused(
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

const badInput = (reason: string, field: string) => ({ code: 'BAD_USER_INPUT', reason, field });

/** A PNG whose IHDR checksum is wrong: the header itself is damaged. */
function withBrokenIhdrCrc(png: Buffer): Buffer {
  const copy = Buffer.from(png);
  // Signature (8) + length (4) + "IHDR" (4) + data (13), then the CRC.
  copy.writeUInt32BE((copy.readUInt32BE(29) ^ 0xffffffff) >>> 0, 29);
  return copy;
}

describe('uploads that are not a usable PNG are refused before PicWish sees them', () => {
  const FILE = 'input.image.file';

  it('refuses text sent as the file as NOT_PNG', async () => {
    await expectRefused(await upload(Buffer.from('this is not an image at all')), badInput('NOT_PNG', FILE));
  });

  it('refuses a JPEG as NOT_PNG', async () => {
    const jpeg = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#fff' } })
      .jpeg()
      .toBuffer();
    await expectRefused(await upload(jpeg), badInput('NOT_PNG', FILE));
  });

  it('refuses an empty file as EMPTY_FILE', async () => {
    await expectRefused(await upload(Buffer.alloc(0)), badInput('EMPTY_FILE', FILE));
  });

  it('refuses a PNG cut short as CORRUPT_IMAGE', async () => {
    await expectRefused(await upload(good.subarray(0, good.length - 40)), badInput('CORRUPT_IMAGE', FILE));
  });

  it('refuses a PNG with a damaged header checksum as CORRUPT_IMAGE', async () => {
    await expectRefused(await upload(withBrokenIhdrCrc(good)), badInput('CORRUPT_IMAGE', FILE));
  });

  it('refuses an RGB PNG without alpha or tRNS as NOT_TRANSPARENT', async () => {
    const rgb = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#fff' } })
      .png()
      .toBuffer();
    await expectRefused(await upload(rgb), badInput('NOT_TRANSPARENT', FILE));
  });

  it('refuses an RGBA PNG without a single transparent pixel as NO_TRANSPARENT_PIXEL', async () => {
    const opaque = await sharp({
      create: { width: 300, height: 300, channels: 4, background: { r: 9, g: 9, b: 9, alpha: 1 } },
    })
      .png()
      .toBuffer();
    await expectRefused(await upload(opaque), badInput('NO_TRANSPARENT_PIXEL', FILE));
  });

  it('refuses a PNG narrower than 256 px as IMAGE_TOO_SMALL', async () => {
    await expectRefused(await upload(await transparentPng(255, 300)), badInput('IMAGE_TOO_SMALL', FILE));
  });

  it('refuses a PNG shorter than 256 px as IMAGE_TOO_SMALL', async () => {
    await expectRefused(await upload(await transparentPng(300, 100)), badInput('IMAGE_TOO_SMALL', FILE));
  });

  it('refuses a PNG wider than 4096 px as IMAGE_TOO_LARGE when the input says fit: false', async () => {
    const answer = await upload(await transparentPng(4097, 256), { image: { file: null, fit: false } });
    await expectRefused(answer, badInput('IMAGE_TOO_LARGE', FILE));
  });

  it('refuses a PNG wider than 12000 px as IMAGE_TOO_LARGE even when fitting', async () => {
    await expectRefused(await upload(await transparentPng(12_001, 300)), badInput('IMAGE_TOO_LARGE', FILE));
  });

  it('refuses a PNG that fitting would take under 256 px as IMAGE_TOO_SMALL', async () => {
    await expectRefused(await upload(await transparentPng(4097, 256)), badInput('IMAGE_TOO_SMALL', FILE));
  });

  it('answers a 21 MB upload quickly with FILE_TOO_LARGE, without reading it all', async () => {
    // A real PNG padded with an ancillary chunk before IEND: only the size can be wrong with it
    // (bytes after IEND would be CORRUPT_IMAGE, #27).
    const big = await paddedPng(21 * 1024 * 1024);
    const started = performance.now();
    let answer: Answer;
    try {
      answer = await upload(big);
    } catch (error) {
      throw new Error(`the 21 MB upload got no answer: ${String((error as Error).cause ?? error)}`);
    }
    const elapsedMs = performance.now() - started;
    console.info(`21 MB upload answered in ${Math.round(elapsedMs)} ms with HTTP ${answer.status}`);
    expect(elapsedMs).toBeLessThan(10_000);
    if (answer.status === 413) {
      await expectRefused(answer, { code: 'PAYLOAD_TOO_LARGE' });
    } else {
      await expectRefused(answer, badInput('FILE_TOO_LARGE', FILE));
    }
  });

  it('refuses a map that names a file which never arrives as UPLOAD_MISSING', async () => {
    const form = new FormData();
    form.set(
      'operations',
      JSON.stringify({
        query: GENERATE_INPUT,
        variables: { input: { image: { file: null }, background: { prompt: 'x' } } },
      }),
    );
    form.set('map', JSON.stringify({ 0: [FILE_PATH] }));
    await expectRefused(
      await raw(form, { 'apollo-require-preflight': 'true' }),
      badInput('UPLOAD_MISSING', FILE),
    );
  });
});

describe('URLs other than absolute http(s) are refused', () => {
  const FIELD = 'input.image.url';

  it('refuses a relative URL as INVALID_URL', async () => {
    await expectRefused(
      await generateFromUrl({ image: { url: '/images/product.png' } }),
      badInput('INVALID_URL', FIELD),
    );
  });

  it('refuses an ftp URL as INVALID_URL', async () => {
    await expectRefused(
      await generateFromUrl({ image: { url: 'ftp://example.com/product.png' } }),
      badInput('INVALID_URL', FIELD),
    );
  });

  it('refuses a data: URL as INVALID_URL', async () => {
    await expectRefused(
      await generateFromUrl({ image: { url: `data:image/png;base64,${good.toString('base64')}` } }),
      badInput('INVALID_URL', FIELD),
    );
  });

  it('refuses a URL carrying credentials as INVALID_URL', async () => {
    await expectRefused(
      await generateFromUrl({ image: { url: 'https://user:secret@example.com/p.png' } }),
      badInput('INVALID_URL', FIELD),
    );
  });
});

describe('prompts and batch sizes outside the documented limits are refused', () => {
  it('refuses a blank prompt as PROMPT_EMPTY', async () => {
    await expectRefused(
      await generateFromUrl({ background: { prompt: ' \n\t ' } }),
      badInput('PROMPT_EMPTY', 'input.background.prompt'),
    );
  });

  it('refuses a 1025-character prompt as PROMPT_TOO_LONG', async () => {
    await expectRefused(
      await generateFromUrl({ background: { prompt: 'a'.repeat(1025) } }),
      badInput('PROMPT_TOO_LONG', 'input.background.prompt'),
    );
  });

  it('refuses a 1025-character negative prompt as NEGATIVE_PROMPT_TOO_LONG', async () => {
    await expectRefused(
      await generateFromUrl({ negativePrompt: 'b'.repeat(1025) }),
      badInput('NEGATIVE_PROMPT_TOO_LONG', 'input.negativePrompt'),
    );
  });

  it('refuses batchSize 3 as INVALID_BATCH_SIZE', async () => {
    await expectRefused(
      await generateFromUrl({ batchSize: 3 }),
      badInput('INVALID_BATCH_SIZE', 'input.batchSize'),
    );
  });

  it('refuses batchSize 0 as INVALID_BATCH_SIZE', async () => {
    await expectRefused(
      await generateFromUrl({ batchSize: 0 }),
      badInput('INVALID_BATCH_SIZE', 'input.batchSize'),
    );
  });

  it('lists every problem at once, the first one repeated as reason and field', async () => {
    const answer = await generateFromUrl({
      background: { prompt: '  ' },
      negativePrompt: 'n'.repeat(1025),
      batchSize: 5,
    });
    await expectRefused(answer, badInput('PROMPT_EMPTY', 'input.background.prompt'));
    const problems = answer.body.errors?.[0]?.extensions?.problems as { reason: string; field: string }[];
    expect(problems.map(({ reason, field }) => [reason, field])).toEqual([
      ['PROMPT_EMPTY', 'input.background.prompt'],
      ['NEGATIVE_PROMPT_TOO_LONG', 'input.negativePrompt'],
      ['INVALID_BATCH_SIZE', 'input.batchSize'],
    ]);
  });

  it('checks the prompt before reading the upload, so a bad prompt with a good file is still refused', async () => {
    await expectRefused(
      await upload(good, { background: { prompt: '   ' } }),
      badInput('PROMPT_EMPTY', 'input.background.prompt'),
    );
  });
});

describe('the exactly-one rule gives ONE_OF_VIOLATION with the path, for literals, variables and uploads alike', () => {
  const oneOf = (field: string) => badInput('ONE_OF_VIOLATION', field);

  it('refuses a literal image whose keys are all null (null counts as not given)', async () => {
    const answer = await stack.gql(
      'mutation { generateBackground(input: { image: { url: null, file: null }, background: { prompt: "x" } }) { id } }',
    );
    await expectRefused(answer, { ...oneOf('input.image'), status: 200 });
  });

  it('refuses a literal background with neither prompt nor sceneType', async () => {
    const answer = await stack.gql(
      `mutation { generateBackground(input: { image: { url: "${URL}" }, background: {} }) { id } }`,
    );
    await expectRefused(answer, { ...oneOf('input.background'), status: 200 });
  });

  it('refuses a literal background with both prompt and sceneType', async () => {
    const answer = await stack.gql(
      `mutation { generateBackground(input: { image: { url: "${URL}" }, background: { prompt: "x", sceneType: 2 } }) { id } }`,
    );
    await expectRefused(answer, { ...oneOf('input.background'), status: 200 });
  });

  it('refuses a literal image whose only key is null', async () => {
    const answer = await stack.gql(
      'mutation { generateBackground(input: { image: { url: null }, background: { prompt: "x" } }) { id } }',
    );
    await expectRefused(answer, oneOf('input.image'));
  });

  it('refuses variables with both prompt and sceneType', async () => {
    await expectRefused(await generateFromUrl({ background: { prompt: 'x', sceneType: 2 } }), {
      ...oneOf('input.background'),
      status: 200,
    });
  });

  it('names the right path even when the refused value quotes a path of its own', async () => {
    await expectRefused(
      await generateFromUrl({ background: { prompt: 'a at "input.elsewhere"; b', sceneType: 2 } }),
      oneOf('input.background'),
    );
  });

  it('refuses variables with an empty image', async () => {
    await expectRefused(await generateFromUrl({ image: {} }), oneOf('input.image'));
  });

  it('refuses variables whose only image key is null', async () => {
    await expectRefused(await generateFromUrl({ image: { url: null } }), oneOf('input.image'));
  });

  it('refuses a BackgroundSpec variable of its own that is empty, naming where it is used', async () => {
    const answer = await stack.gql(
      `mutation($background: BackgroundSpec!) { generateBackground(input: { image: { url: "${URL}" }, background: $background }) { id } }`,
      { background: {} },
    );
    await expectRefused(answer, oneOf('input.background'));
  });

  it('refuses a nullable variable that is null as the only key of a literal image', async () => {
    const answer = await stack.gql(
      'mutation($url: String) { generateBackground(input: { image: { url: $url }, background: { prompt: "x" } }) { id } }',
      { url: null },
    );
    await expectRefused(answer, oneOf('input.image'));
  });

  it('refuses an upload and a url together in a multipart request', async () => {
    await expectRefused(await upload(good, { image: { file: null, url: URL } }), oneOf('input.image'));
  });
});

describe('other variables that cannot be coerced get INVALID_VARIABLE with the path', () => {
  it('refuses a batchSize variable that is not an integer', async () => {
    await expectRefused(await generateFromUrl({ batchSize: 'two' }), {
      ...badInput('INVALID_VARIABLE', 'input.batchSize'),
      status: 400,
    });
  });

  it('refuses a prompt variable that is not a string', async () => {
    await expectRefused(await generateFromUrl({ background: { prompt: 42 } }), {
      ...badInput('INVALID_VARIABLE', 'input.background.prompt'),
      status: 400,
    });
  });

  it('refuses a required variable that was not sent, naming the argument', async () => {
    await expectRefused(await stack.gql(GENERATE_INPUT, {}), {
      ...badInput('INVALID_VARIABLE', 'input'),
      status: 400,
    });
  });

  it('refuses a file variable sent as a string in a JSON request', async () => {
    await expectRefused(await generateFromUrl({ image: { file: 'foreground.png' } }), {
      ...badInput('INVALID_VARIABLE', 'input.image.file'),
      status: 400,
    });
  });

  it('refuses an input with a field the schema does not have', async () => {
    await expectRefused(await generateFromUrl({ colour: 'red' }), {
      ...badInput('INVALID_VARIABLE', 'input'),
      status: 400,
    });
  });
});

describe('transport garbage gets a GraphQL-shaped 4xx, never a 500 or a hang', () => {
  const preflight = { 'apollo-require-preflight': 'true' };

  it('answers malformed JSON with 400 BAD_REQUEST', async () => {
    await expectRefused(await raw('{"query": "mutation {', { 'content-type': 'application/json' }), {
      code: 'BAD_REQUEST',
      status: 400,
    });
  });

  it('answers a multipart body that is not multipart with 400 BAD_REQUEST', async () => {
    await expectRefused(
      await raw('garbage, not parts', { 'content-type': 'multipart/form-data; boundary=xyz', ...preflight }),
      { code: 'BAD_REQUEST', status: 400 },
    );
  });

  it('answers a multipart content type without a boundary with 400 BAD_REQUEST', async () => {
    await expectRefused(await raw('whatever', { 'content-type': 'multipart/form-data', ...preflight }), {
      code: 'BAD_REQUEST',
      status: 400,
    });
  });

  it('answers multipart with invalid JSON in operations with 400 BAD_REQUEST', async () => {
    const form = new FormData();
    form.set('operations', '{"query": ');
    form.set('map', '{}');
    await expectRefused(await raw(form, preflight), { code: 'BAD_REQUEST', status: 400 });
  });

  it('answers a map naming a path that does not exist with 400 BAD_REQUEST', async () => {
    const form = new FormData();
    form.set(
      'operations',
      JSON.stringify({
        query: GENERATE_INPUT,
        variables: { input: { image: { file: null }, background: { prompt: 'x' } } },
      }),
    );
    form.set('map', JSON.stringify({ 0: ['variables.input.nowhere.file'] }));
    form.set('0', new Blob([new Uint8Array(good)]), 'a.png');
    await expectRefused(await raw(form, preflight), { code: 'BAD_REQUEST', status: 400 });
  });

  it('answers a map naming a variable the operation does not have with 400, the image left empty', async () => {
    const form = new FormData();
    form.set(
      'operations',
      JSON.stringify({
        query: GENERATE_INPUT,
        variables: { input: { image: {}, background: { prompt: 'x' } } },
      }),
    );
    form.set('map', JSON.stringify({ 0: ['variables.picture'] }));
    form.set('0', new Blob([new Uint8Array(good)]), 'a.png');
    await expectRefused(await raw(form, preflight), {
      ...badInput('ONE_OF_VIOLATION', 'input.image'),
      status: 200,
    });
  });

  it('answers more files than a batch takes (51) with 413 PAYLOAD_TOO_LARGE', async () => {
    const form = new FormData();
    form.set(
      'operations',
      JSON.stringify({
        query: GENERATE_INPUT,
        variables: { input: { image: { file: null }, background: { prompt: 'x' } } },
      }),
    );
    form.set(
      'map',
      JSON.stringify(Object.fromEntries(Array.from({ length: 51 }, (_, i) => [i, [FILE_PATH]]))),
    );
    form.set('0', new Blob([new Uint8Array(good)]), 'a.png');
    form.set('1', new Blob([new Uint8Array(good)]), 'b.png');
    await expectRefused(await raw(form, preflight), { code: 'PAYLOAD_TOO_LARGE', status: 413 });
  });

  it.each([
    ['an empty batch', '[]'],
    ['an empty object', '{}'],
    ['a batch of non-objects', '[1, 2]'],
  ])('answers multipart operations holding %s with 400 BAD_REQUEST', async (_what, operations) => {
    const form = new FormData();
    form.set('operations', operations);
    form.set('map', '{}');
    await expectRefused(await raw(form, preflight), { code: 'BAD_REQUEST', status: 400 });
  });

  it('answers a multipart request without a preflight header with 400 CSRF_PREVENTED', async () => {
    const form = new FormData();
    form.set('operations', JSON.stringify({ query: GENERATE_INPUT, variables: {} }));
    form.set('map', '{}');
    await expectRefused(await raw(form, {}), { code: 'CSRF_PREVENTED', status: 400 });
  });

  it('answers a multipart operations field over 1 MB with 413 PAYLOAD_TOO_LARGE', async () => {
    const form = new FormData();
    form.set(
      'operations',
      JSON.stringify({ query: GENERATE_INPUT, variables: { padding: 'x'.repeat(1_100_000) } }),
    );
    form.set('map', '{}');
    await expectRefused(await raw(form, preflight), { code: 'PAYLOAD_TOO_LARGE', status: 413 });
  });

  it('answers a JSON body over 1 MB with 413 PAYLOAD_TOO_LARGE', async () => {
    const body = JSON.stringify({ query: '{ __typename }', variables: { padding: 'x'.repeat(1_100_000) } });
    await expectRefused(await raw(body, { 'content-type': 'application/json' }), {
      code: 'PAYLOAD_TOO_LARGE',
      status: 413,
    });
  });

  it('answers a body that is a JSON string instead of an object with 400 BAD_REQUEST', async () => {
    await expectRefused(await raw('"mutation { x }"', { 'content-type': 'application/json' }), {
      code: 'BAD_REQUEST',
      status: 'any4xx',
    });
  });
});

describe('unexpected errors', () => {
  it('are masked as INTERNAL_SERVER_ERROR and logged once with the request id the client gets', async () => {
    const lines: Record<string, unknown>[] = [];
    const capture = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line));
        done();
      },
    });
    const dataDir = mkdtempSync(join(tmpdir(), 'gw-mask-'));
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      PICWISH_API_KEY: stack.engine.apiKey,
      PICWISH_BASE_URL: stack.engine.url,
      NODE_ENV: 'production',
    });
    if (!config.ok) throw new Error(config.error.message);
    const gateway = await startGateway(config.value, pino({ level: 'info' }, capture), DEFAULT_SCENE_TYPES);
    try {
      // Without its spool directory the gateway cannot store an upload: a server fault, not the client's.
      rmSync(join(dataDir, 'spool'), { recursive: true, force: true });
      const answer = await uploadOperation(
        gateway.url,
        GENERATE_INPUT,
        { input: { image: { file: null }, background: { prompt: 'x' } } },
        { variablePath: FILE_PATH, bytes: good },
        { 'apollo-require-preflight': 'true', 'x-request-id': 'client-chosen-id-42' },
      );
      const [error] = answer.body.errors ?? [];
      expect(error?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      expect(error?.message).toBe('Unexpected error.');
      expect(JSON.stringify(answer.body)).not.toContain('ENOENT');
      expect(JSON.stringify(answer.body)).not.toContain(dataDir);
      const requestId = error?.extensions?.requestId;
      // The id the client chose in x-request-id comes back, so it can match its own logs too.
      expect(requestId).toBe('client-chosen-id-42');
      // The error line may be written after the answer: wait for it, then a little longer for a
      // second one that must not come.
      await eventually(async () => (lines.some((line) => (line.level as number) >= 50) ? true : undefined));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const errorLogs = lines.filter((line) => (line.level as number) >= 50);
      expect(errorLogs, JSON.stringify(errorLogs)).toHaveLength(1);
      expect(errorLogs[0]?.requestId).toBe(requestId);
      expect(JSON.stringify(errorLogs[0])).toContain('ENOENT');
      expect(stack.engine.stats().createAttempts).toBe(0);
    } finally {
      await gateway.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
