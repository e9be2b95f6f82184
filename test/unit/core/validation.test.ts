import { describe, expect, it } from 'vitest';
import type { GatewayError, InputProblem } from '../../../src/core/errors.js';
import {
  exactlyOneOf,
  type GenerateParams,
  type ImageChoice,
  MAX_DEADLINE_SECONDS,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  MAX_PROMPT_LENGTH,
  MAX_WEBHOOK_URL_LENGTH,
  validateHttpUrl,
  validateParams,
} from '../../../src/core/validation.js';

const IMAGE: ImageChoice = { url: 'https://images.example/cat.png' };
const PARAMS: GenerateParams = { background: { prompt: 'a sunny beach' }, batchSize: 1 };

/** The refusal's problems, or a failed test when the params were accepted. */
function problemsOf(image: ImageChoice, params: GenerateParams): readonly InputProblem[] {
  const checked = validateParams(image, params);
  if (checked.ok) throw new Error('expected a refusal');
  const error: GatewayError = checked.error;
  if (error.kind !== 'BAD_USER_INPUT') throw new Error(`expected BAD_USER_INPUT, got ${error.kind}`);
  return error.problems;
}

function reasonsOf(image: ImageChoice, params: GenerateParams): string[] {
  return problemsOf(image, params).map((problem) => problem.reason);
}

describe('validateParams', () => {
  it('accepts a prompt and fills every optional field with its default', () => {
    expect(validateParams(IMAGE, PARAMS)).toEqual({
      ok: true,
      value: {
        prompt: 'a sunny beach',
        sceneType: null,
        negativePrompt: null,
        batchSize: 1,
        idempotencyKey: null,
        deadlineSeconds: null,
        removeBackground: false,
        webhook: null,
      },
    });
  });

  it('accepts a scene type instead of a prompt, and keeps every field it was given', () => {
    const checked = validateParams(
      { file: {} },
      {
        background: { sceneType: 3, prompt: null },
        negativePrompt: 'people',
        batchSize: 2,
        idempotencyKey: 'order-42',
        deadlineSeconds: MAX_DEADLINE_SECONDS,
        removeBackground: true,
      },
    );
    expect(checked).toMatchObject({
      ok: true,
      value: {
        prompt: null,
        sceneType: 3,
        negativePrompt: 'people',
        batchSize: 2,
        idempotencyKey: 'order-42',
        deadlineSeconds: MAX_DEADLINE_SECONDS,
        removeBackground: true,
      },
    });
  });

  it('reads a blank negative prompt as none', () => {
    expect(validateParams(IMAGE, { ...PARAMS, negativePrompt: '   ' })).toMatchObject({
      ok: true,
      value: { negativePrompt: null },
    });
  });

  it('refuses no image source, and two at once, with ONE_OF_VIOLATION on input.image', () => {
    for (const image of [{}, { file: {}, url: 'https://images.example/cat.png' }]) {
      expect(problemsOf(image, PARAMS)).toEqual([
        expect.objectContaining({ reason: 'ONE_OF_VIOLATION', field: ['input', 'image'] }),
      ]);
    }
  });

  it('refuses both a prompt and a scene type, and neither, with ONE_OF_VIOLATION on input.background', () => {
    for (const background of [{ prompt: 'beach', sceneType: 1 }, { prompt: null }]) {
      expect(problemsOf(IMAGE, { ...PARAMS, background })).toEqual([
        expect.objectContaining({ reason: 'ONE_OF_VIOLATION', field: ['input', 'background'] }),
      ]);
    }
  });

  it('refuses a blank prompt with PROMPT_EMPTY', () => {
    expect(problemsOf(IMAGE, { ...PARAMS, background: { prompt: ' \n ' } })).toEqual([
      expect.objectContaining({ reason: 'PROMPT_EMPTY', field: ['input', 'background', 'prompt'] }),
    ]);
  });

  it('counts a prompt in characters, not UTF-16 units: PROMPT_TOO_LONG only past the limit', () => {
    const atLimit = '🌊'.repeat(MAX_PROMPT_LENGTH);
    expect(validateParams(IMAGE, { ...PARAMS, background: { prompt: atLimit } }).ok).toBe(true);
    expect(reasonsOf(IMAGE, { ...PARAMS, background: { prompt: `${atLimit}x` } })).toEqual([
      'PROMPT_TOO_LONG',
    ]);
  });

  it('refuses a negative prompt past the limit with NEGATIVE_PROMPT_TOO_LONG', () => {
    expect(problemsOf(IMAGE, { ...PARAMS, negativePrompt: 'x'.repeat(MAX_PROMPT_LENGTH + 1) })).toEqual([
      expect.objectContaining({ reason: 'NEGATIVE_PROMPT_TOO_LONG', field: ['input', 'negativePrompt'] }),
    ]);
  });

  it.each([0, 3, 1.5])('refuses batchSize %s with INVALID_BATCH_SIZE', (batchSize) => {
    expect(reasonsOf(IMAGE, { ...PARAMS, batchSize })).toEqual(['INVALID_BATCH_SIZE']);
  });

  it.each(['', 'k'.repeat(MAX_IDEMPOTENCY_KEY_LENGTH + 1)])(
    'refuses an idempotency key of %#: empty or too long, with IDEMPOTENCY_KEY_INVALID',
    (idempotencyKey) => {
      expect(reasonsOf(IMAGE, { ...PARAMS, idempotencyKey })).toEqual(['IDEMPOTENCY_KEY_INVALID']);
    },
  );

  it.each([0, MAX_DEADLINE_SECONDS + 1])(
    'refuses deadlineSeconds %s with INVALID_DEADLINE',
    (deadlineSeconds) => {
      expect(reasonsOf(IMAGE, { ...PARAMS, deadlineSeconds })).toEqual(['INVALID_DEADLINE']);
    },
  );

  it('subscribes a webhook URL to the final states by default, and orders chosen states by life cycle', () => {
    const url = 'https://hooks.example/picwish';
    expect(validateParams(IMAGE, { ...PARAMS, webhookUrl: url })).toMatchObject({
      ok: true,
      value: { webhook: { url, events: ['SUCCEEDED', 'FAILED', 'CANCELLED'] } },
    });
    expect(
      validateParams(IMAGE, { ...PARAMS, webhookUrl: url, webhookEvents: ['FAILED', 'QUEUED', 'FAILED'] }),
    ).toMatchObject({ ok: true, value: { webhook: { url, events: ['QUEUED', 'FAILED'] } } });
  });

  it('refuses webhookEvents without a webhookUrl with WEBHOOK_URL_REQUIRED', () => {
    expect(problemsOf(IMAGE, { ...PARAMS, webhookEvents: ['SUCCEEDED'] })).toEqual([
      expect.objectContaining({ reason: 'WEBHOOK_URL_REQUIRED', field: ['input', 'webhookEvents'] }),
    ]);
  });

  it('refuses an empty webhookEvents with WEBHOOK_EVENTS_EMPTY', () => {
    const params = { ...PARAMS, webhookUrl: 'https://hooks.example/', webhookEvents: [] };
    expect(reasonsOf(IMAGE, params)).toEqual(['WEBHOOK_EVENTS_EMPTY']);
  });

  it.each([
    ['too long', `https://hooks.example/${'x'.repeat(MAX_WEBHOOK_URL_LENGTH)}`],
    ['not absolute', '/hooks'],
    ['not http', 'ftp://hooks.example/'],
    ['with credentials', 'https://user:pass@hooks.example/'],
  ])('refuses a webhook URL %s with INVALID_URL on input.webhookUrl', (_, webhookUrl) => {
    expect(problemsOf(IMAGE, { ...PARAMS, webhookUrl })).toEqual([
      expect.objectContaining({ reason: 'INVALID_URL', field: ['input', 'webhookUrl'] }),
    ]);
  });

  it('reports every problem at once, in field order, so a form can mark them all', () => {
    const reasons = reasonsOf(
      {},
      {
        background: { prompt: '' },
        negativePrompt: 'x'.repeat(MAX_PROMPT_LENGTH + 1),
        batchSize: 5,
        idempotencyKey: '',
        deadlineSeconds: -1,
        webhookEvents: ['SUCCEEDED'],
      },
    );
    expect(reasons).toEqual([
      'ONE_OF_VIOLATION',
      'PROMPT_EMPTY',
      'NEGATIVE_PROMPT_TOO_LONG',
      'INVALID_BATCH_SIZE',
      'IDEMPOTENCY_KEY_INVALID',
      'INVALID_DEADLINE',
      'WEBHOOK_URL_REQUIRED',
    ]);
  });
});

describe('exactlyOneOf', () => {
  it('counts a key given as null as not given', () => {
    expect(exactlyOneOf({ a: 1, b: null }, ['a', 'b'], ['input', 'x'])).toBeNull();
  });

  it('names the keys it got, or that none was given', () => {
    expect(exactlyOneOf({ a: 1, b: 2 }, ['a', 'b'], ['input', 'x'])?.message).toBe(
      'input.x takes exactly one of a, b; got a and b.',
    );
    const none: { a?: number; b?: number } = {};
    expect(exactlyOneOf(none, ['a', 'b'], ['input', 'x'])?.message).toBe(
      'input.x takes exactly one of a, b; none was given.',
    );
  });
});

describe('validateHttpUrl', () => {
  const FIELD = ['input', 'image', 'url'];

  it('accepts an absolute http or https URL, trimmed and normalised', () => {
    expect(validateHttpUrl('  https://Images.Example/a b.png ', FIELD)).toEqual({
      ok: true,
      value: 'https://images.example/a%20b.png',
    });
    expect(validateHttpUrl('http://images.example', FIELD)).toEqual({
      ok: true,
      value: 'http://images.example/',
    });
  });

  it.each([
    ['not an absolute URL', 'images.example/cat.png', 'The image URL is not an absolute URL.'],
    ['another scheme', 'file:///etc/passwd', 'The image URL must use http or https, not file.'],
    ['credentials', 'https://user@images.example/', 'The image URL must not carry credentials.'],
  ])('refuses %s with INVALID_URL and says why', (_, raw, message) => {
    expect(validateHttpUrl(raw, FIELD)).toEqual({
      ok: false,
      error: { kind: 'BAD_USER_INPUT', problems: [{ reason: 'INVALID_URL', field: FIELD, message }] },
    });
  });

  it('names the URL by its label', () => {
    const checked = validateHttpUrl('nope', ['input', 'webhookUrl'], 'The webhook URL');
    expect(checked.ok ? '' : checked.error).toMatchObject({
      problems: [{ message: 'The webhook URL is not an absolute URL.' }],
    });
  });
});
