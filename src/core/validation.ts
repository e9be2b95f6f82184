import { err, ok, type Result } from '../shared/result.js';
import { badInput, type GatewayError, type InputProblem } from './errors.js';
import type { TaskPriority, TaskState, WebhookSubscription } from './model.js';
import { DEFAULT_WEBHOOK_EVENTS } from './webhooks.js';

/** PicWish's documented prompt limit, applied to the negative prompt as well. */
export const MAX_PROMPT_LENGTH = 1024;
/** Idempotency keys are opaque strings up to this long. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
/** `deadlineSeconds` above a day makes no sense for a task whose results live an hour upstream. */
export const MAX_DEADLINE_SECONDS = 86_400;
/** Longer webhook URLs are refused: they are stored with every delivery. */
export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** Where the webhook fields sit in the mutation's arguments. */
export const WEBHOOK_FIELDS = {
  url: ['input', 'webhookUrl'],
  events: ['input', 'webhookEvents'],
} as const;

/** Where each image source sits in the mutation's arguments, for the errors that name it. */
export const IMAGE_FIELDS = {
  file: ['input', 'image', 'file'],
  url: ['input', 'image', 'url'],
} as const;

/** The image sources as the schema hands them over; exactly one must be given. */
export interface ImageChoice {
  readonly file?: unknown;
  readonly url?: string | null;
}

/** The mutation's input as the schema hands it over, the image already separated out. */
export interface GenerateParams {
  readonly background: { readonly prompt?: string | null; readonly sceneType?: number | null };
  readonly negativePrompt?: string | null;
  readonly batchSize: number;
  readonly idempotencyKey?: string | null;
  readonly deadlineSeconds?: number | null;
  /** Run PicWish's background removal on a photo first (#14). @default false */
  readonly removeBackground?: boolean | null;
  readonly webhookUrl?: string | null;
  readonly webhookEvents?: readonly TaskState[] | null;
  /** Its lane in its flow's share of the key (#25). @default 'INTERACTIVE' */
  readonly priority?: TaskPriority | null;
}

/** The same, checked and normalised: what a task records. */
export interface ValidParams {
  readonly prompt: string | null;
  readonly sceneType: number | null;
  readonly negativePrompt: string | null;
  readonly batchSize: 1 | 2;
  readonly idempotencyKey: string | null;
  readonly deadlineSeconds: number | null;
  readonly removeBackground: boolean;
  /** The webhook URL (its form checked; its address is the service's to check) and its events. */
  readonly webhook: WebhookSubscription | null;
}

const INPUT = ['input'];

/**
 * Checks everything about a generate request except the image bytes, before anything is read
 * from the upload or sent upstream. Returns every problem at once so a form can mark all fields.
 */
export function validateParams(
  image: ImageChoice,
  params: GenerateParams,
): Result<ValidParams, GatewayError> {
  const problems: InputProblem[] = [];
  const { prompt, sceneType } = params.background;
  for (const problem of [
    exactlyOneOf(image, ['file', 'url'], [...INPUT, 'image']),
    exactlyOneOf(params.background, ['prompt', 'sceneType'], [...INPUT, 'background']),
  ]) {
    if (problem) problems.push(problem);
  }
  const hasPrompt = prompt !== undefined && prompt !== null;
  const hasScene = sceneType !== undefined && sceneType !== null;
  if (hasPrompt && prompt.trim() === '') {
    problems.push({
      reason: 'PROMPT_EMPTY',
      field: [...INPUT, 'background', 'prompt'],
      message: 'The prompt is blank.',
    });
  } else if (hasPrompt && [...prompt].length > MAX_PROMPT_LENGTH) {
    problems.push({
      reason: 'PROMPT_TOO_LONG',
      field: [...INPUT, 'background', 'prompt'],
      message: `The prompt has ${[...prompt].length} characters; at most ${MAX_PROMPT_LENGTH} are allowed.`,
    });
  }
  const negative = params.negativePrompt?.trim() ? params.negativePrompt : null;
  if (negative !== null && [...negative].length > MAX_PROMPT_LENGTH) {
    problems.push({
      reason: 'NEGATIVE_PROMPT_TOO_LONG',
      field: [...INPUT, 'negativePrompt'],
      message: `The negative prompt has ${[...negative].length} characters; at most ${MAX_PROMPT_LENGTH} are allowed.`,
    });
  }
  if (params.batchSize !== 1 && params.batchSize !== 2) {
    problems.push({
      reason: 'INVALID_BATCH_SIZE',
      field: [...INPUT, 'batchSize'],
      message: `batchSize must be 1 or 2, got ${params.batchSize}.`,
    });
  }
  const key = params.idempotencyKey ?? null;
  if (key !== null && (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH)) {
    problems.push({
      reason: 'IDEMPOTENCY_KEY_INVALID',
      field: [...INPUT, 'idempotencyKey'],
      message: `idempotencyKey must have 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters.`,
    });
  }
  const deadline = params.deadlineSeconds ?? null;
  if (deadline !== null && (deadline < 1 || deadline > MAX_DEADLINE_SECONDS)) {
    problems.push({
      reason: 'INVALID_DEADLINE',
      field: [...INPUT, 'deadlineSeconds'],
      message: `deadlineSeconds must be between 1 and ${MAX_DEADLINE_SECONDS}.`,
    });
  }
  const webhook = webhookSubscription(params, problems);
  const [first, ...rest] = problems;
  if (first) return err({ kind: 'BAD_USER_INPUT', problems: [first, ...rest] });
  return ok({
    prompt: hasPrompt ? prompt : null,
    sceneType: hasScene ? sceneType : null,
    negativePrompt: negative,
    batchSize: params.batchSize as 1 | 2,
    idempotencyKey: key,
    deadlineSeconds: deadline,
    removeBackground: params.removeBackground === true,
    webhook,
  });
}

/** The states in life-cycle order, so a subscription's events are stored one way. */
const STATE_ORDER: readonly TaskState[] = ['QUEUED', 'PROCESSING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];

/** `webhookUrl` and `webhookEvents`, or the problems with them (pushed onto `problems`). */
function webhookSubscription(params: GenerateParams, problems: InputProblem[]): WebhookSubscription | null {
  const raw = params.webhookUrl ?? null;
  const events = params.webhookEvents ?? null;
  if (raw === null) {
    if (events !== null) {
      problems.push({
        reason: 'WEBHOOK_URL_REQUIRED',
        field: WEBHOOK_FIELDS.events,
        message: 'webhookEvents needs a webhookUrl to send them to.',
      });
    }
    return null;
  }
  if (events !== null && events.length === 0) {
    problems.push({
      reason: 'WEBHOOK_EVENTS_EMPTY',
      field: WEBHOOK_FIELDS.events,
      message: 'webhookEvents is empty; leave it out for the final states, or name at least one state.',
    });
  }
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) {
    problems.push({
      reason: 'INVALID_URL',
      field: WEBHOOK_FIELDS.url,
      message: `The webhook URL has ${raw.length} characters; at most ${MAX_WEBHOOK_URL_LENGTH} are allowed.`,
    });
    return null;
  }
  const url = validateHttpUrl(raw, WEBHOOK_FIELDS.url, 'The webhook URL');
  if (!url.ok) {
    problems.push(...(url.error as Extract<GatewayError, { kind: 'BAD_USER_INPUT' }>).problems);
    return null;
  }
  const wanted = new Set(events ?? DEFAULT_WEBHOOK_EVENTS);
  return { url: url.value, events: STATE_ORDER.filter((state) => wanted.has(state)) };
}

/**
 * The exactly-one rule of the choice inputs (`ImageSource`, `BackgroundSpec`), and the only place
 * it is checked: the schema declares them as plain input objects, so a literal, a variable and a
 * multipart request all reach this check and get the same ONE_OF_VIOLATION (docs/errors.md).
 * A key given as `null` counts as not given.
 */
export function exactlyOneOf<T extends object>(
  value: T,
  keys: readonly (keyof T & string)[],
  field: readonly string[],
): InputProblem | null {
  const given = keys.filter((key) => value[key] !== undefined && value[key] !== null);
  if (given.length === 1) return null;
  return {
    reason: 'ONE_OF_VIOLATION',
    field,
    message: `${field.join('.')} takes exactly one of ${keys.join(', ')}; ${
      given.length === 0 ? 'none was given' : `got ${given.join(' and ')}`
    }.`,
  };
}

/**
 * Only absolute http(s) URLs without credentials are fetched or called (image URLs, webhook URLs);
 * anything else is refused here. `label` names the URL in the messages.
 */
export function validateHttpUrl(
  raw: string,
  field: readonly string[],
  label = 'The image URL',
): Result<string, GatewayError> {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return err(badInput('INVALID_URL', field, `${label} is not an absolute URL.`));
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return err(
      badInput(
        'INVALID_URL',
        field,
        `${label} must use http or https, not ${url.protocol.replace(':', '')}.`,
      ),
    );
  }
  if (!url.hostname) return err(badInput('INVALID_URL', field, `${label} has no host.`));
  if (url.username || url.password) {
    return err(badInput('INVALID_URL', field, `${label} must not carry credentials.`));
  }
  return ok(url.toString());
}
