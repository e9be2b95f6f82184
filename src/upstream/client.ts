// Every PicWish call in one client, over 300 lines on purpose: the three calls share one fault
// mapping, one scrubber and one size-bounded reader, which is what keeps their errors alike.
import { openAsBlob } from 'node:fs';
import { basename } from 'node:path';
import { Agent, type Dispatcher, FormData, request } from 'undici';
import { err, ok, type Result } from '../shared/result.js';
import { createScrubber } from '../shared/secret-scrubbing.js';
import {
  type CreateTaskRequest,
  envelopeMessage,
  envelopeStatus,
  type OutgoingImage,
  parseCreatedTaskId,
  parseSegmentation,
  parseTaskStatus,
  type SegmentationOutcome,
  type UpstreamTaskStatus,
} from './wire.js';

/**
 * Why an upstream call did not give a usable answer. The scheduler decides from the kind alone
 * whether to retry, slow down or fail the task, so every HTTP and network outcome lands in
 * exactly one of these.
 */
export type UpstreamFault =
  /** 400 or another 4xx PicWish gave no special meaning: the request itself is wrong. */
  | { readonly kind: 'rejected'; readonly status: number; readonly message: string | null }
  /** 401: the key is wrong or the service is not enabled for it. */
  | { readonly kind: 'auth' }
  /** 413: the uploaded file is too large for PicWish. */
  | { readonly kind: 'too_large' }
  /** 404 on a poll: PicWish does not know the task (any more). */
  | { readonly kind: 'not_found' }
  /** 429: over the key's QPS; `retryAfterMs` from `Retry-After` when PicWish sent one. */
  | { readonly kind: 'rate_limited'; readonly retryAfterMs: number | null }
  /**
   * A blip worth retrying: no connection, a timeout, a reset, a 5xx, an unparseable answer.
   * `mayHaveCreated` is true when the request may have reached PicWish and been acted on — a
   * create with that flag must never be sent again (the resubmission rule, src/scheduler/task-steps.ts).
   */
  | { readonly kind: 'transient'; readonly detail: string; readonly mayHaveCreated: boolean };

/**
 * The seam between task services and PicWish. The gateway needs these calls; the local engine
 * speaks the same contract, so one implementation serves both.
 */
export interface UpstreamClient {
  createTask(request: CreateTaskRequest): Promise<Result<{ taskId: string }, UpstreamFault>>;
  getTask(taskId: string): Promise<Result<UpstreamTaskStatus, UpstreamFault>>;
  /**
   * PicWish's background removal of a photo (#14), asked synchronously (`sync=1`): one call, one
   * budget slot, the cutout (PNG, base64) in the answer. Charged like a create, so the same
   * resubmission rule applies: `mayHaveCreated` marks an answer it may have acted on.
   */
  removeBackground(image: OutgoingImage): Promise<Result<SegmentationOutcome, UpstreamFault>>;
  close(): Promise<void>;
}

/** Settings for PicWishClient; the key is only ever put in the `X-API-KEY` header. */
export interface PicWishClientOptions {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly timeoutMs: number;
  /**
   * The largest poll answer read; a bigger one is dropped unparsed (a transient fault). Polls can
   * carry results inline as base64, so this leaves room for two 25 MB images.
   * @default 72 MiB
   */
  readonly maxAnswerBytes?: number;
  /**
   * Other secrets to keep out of PicWish's words (message, state_detail) before tenants see them;
   * the API key is always scrubbed.
   * @default []
   */
  readonly secrets?: readonly string[];
}

/** The default of `maxAnswerBytes`: two 25 MB results as base64, and the envelope around them. */
export const MAX_POLL_ANSWER_BYTES = 72 * 1024 * 1024;

/** A create answer is a small envelope with a task id; anything this big is not one. */
export const MAX_CREATE_ANSWER_BYTES = 64 * 1024;

/** Network errors that prove the request never reached the server, so nothing was created. */
const NOT_DELIVERED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const CREATE_PATH = '/api/tasks/visual/background';
const SEGMENTATION_PATH = '/api/tasks/visual/segmentation';

function retryAfterMs(header: string | string[] | undefined): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, 60_000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.min(date - Date.now(), 60_000));
}

/** Timeouts as undici and `AbortSignal.timeout` report them (the latter as DOMException code 23). */
const TIMEOUTS = new Set(['TimeoutError', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Network failures in words an operator (and a tenant reading a task's error) understands. */
const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: 'the connection was refused',
  ECONNRESET: 'the connection was reset',
  ENOTFOUND: 'the host name was not found',
  EAI_AGAIN: 'the host name could not be resolved',
  ENETUNREACH: 'the network is unreachable',
  EHOSTUNREACH: 'the host is unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  UND_ERR_SOCKET: 'the connection broke',
};

function networkFault(error: unknown, timeoutMs: number): UpstreamFault {
  const name = (error as Error | null)?.name;
  const rawCode = (error as { code?: unknown } | null)?.code;
  const code = typeof rawCode === 'string' ? rawCode : (name ?? 'unknown');
  const timedOut = TIMEOUTS.has(code) || name === 'TimeoutError';
  const detail = timedOut
    ? `no answer within ${timeoutMs} ms`
    : (NETWORK_WORDS[code] ?? `network error (${code})`);
  return { kind: 'transient', detail, mayHaveCreated: !NOT_DELIVERED.has(code) };
}

/** Maps a non-2xx (or 2xx-without-the-expected-data) answer onto a fault. */
function answerFault(
  code: number,
  body: unknown,
  headers: Record<string, string | string[] | undefined>,
  scrub: (text: string) => string,
): UpstreamFault {
  const message = envelopeMessage(body, scrub);
  if (code === 401 || code === 403) return { kind: 'auth' };
  if (code === 404) return { kind: 'not_found' };
  if (code === 413) return { kind: 'too_large' };
  if (code === 429) return { kind: 'rate_limited', retryAfterMs: retryAfterMs(headers['retry-after']) };
  if (code >= 400 && code < 500 && code !== 408) return { kind: 'rejected', status: code, message };
  // A server error is an answer: PicWish said it failed, so it created nothing.
  return { kind: 'transient', detail: `upstream answered ${code}`, mayHaveCreated: false };
}

/**
 * PicWish over undici: one keep-alive pool, a timeout per request, and answers parsed without
 * trusting their shape. It never throws for anything the network or PicWish can do; faults come
 * back as values.
 */
export class PicWishClient implements UpstreamClient {
  readonly #agent: Agent;
  readonly #options: PicWishClientOptions;
  readonly #scrub: (text: string) => string;

  constructor(options: PicWishClientOptions) {
    this.#options = options;
    this.#scrub = createScrubber([options.apiKey, ...(options.secrets ?? [])]);
    this.#agent = new Agent({
      connections: 16,
      connectTimeout: Math.min(options.timeoutMs, 10_000),
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      keepAliveTimeout: 4_000,
    });
  }

  async createTask(input: CreateTaskRequest): Promise<Result<{ taskId: string }, UpstreamFault>> {
    const form = await imageForm(input.image);
    if (input.prompt !== null) form.set('prompt', input.prompt);
    if (input.sceneType !== null) form.set('scene_type', String(input.sceneType));
    if (input.negativePrompt !== null) form.set('negative_prompt', input.negativePrompt);
    form.set('batch_size', String(input.batchSize));

    const answer = await this.#call('POST', CREATE_PATH, MAX_CREATE_ANSWER_BYTES, form);
    if (!answer.ok) return answer;
    const { httpStatus, body, headers } = answer.value;
    const code = envelopeStatus(httpStatus, body);
    if (httpStatus >= 200 && httpStatus < 300 && code === 200) {
      const taskId = parseCreatedTaskId(body);
      if (taskId) return ok({ taskId });
      // A 200 without a task id may still have started a task we cannot name: do not resend.
      return err({ kind: 'transient', detail: 'create answer had no task_id', mayHaveCreated: true });
    }
    if (body === undefined && httpStatus >= 200 && httpStatus < 300) {
      return err({ kind: 'transient', detail: 'create answer was not JSON', mayHaveCreated: true });
    }
    return err(answerFault(code, body, headers, this.#scrub));
  }

  async getTask(taskId: string): Promise<Result<UpstreamTaskStatus, UpstreamFault>> {
    const answer = await this.#call(
      'GET',
      `${CREATE_PATH}/${encodeURIComponent(taskId)}`,
      this.#options.maxAnswerBytes ?? MAX_POLL_ANSWER_BYTES,
    );
    if (!answer.ok) return answer;
    const { httpStatus, body, headers } = answer.value;
    const code = envelopeStatus(httpStatus, body);
    if (httpStatus >= 200 && httpStatus < 300 && code === 200) {
      const status = parseTaskStatus(body, taskId, this.#scrub);
      if (status) return ok(status);
      return err({ kind: 'transient', detail: 'task answer had no usable state', mayHaveCreated: false });
    }
    return err(answerFault(code, body, headers, this.#scrub));
  }

  async removeBackground(image: OutgoingImage): Promise<Result<SegmentationOutcome, UpstreamFault>> {
    const form = await imageForm(image);
    form.set('sync', '1');
    form.set('return_type', '2');
    form.set('output_type', '2');
    form.set('format', 'png');
    const answer = await this.#call(
      'POST',
      SEGMENTATION_PATH,
      this.#options.maxAnswerBytes ?? MAX_POLL_ANSWER_BYTES,
      form,
    );
    if (!answer.ok) return answer;
    const { httpStatus, body, headers } = answer.value;
    const code = envelopeStatus(httpStatus, body);
    if (httpStatus >= 200 && httpStatus < 300 && code === 200) {
      const outcome = parseSegmentation(body, this.#scrub);
      if (outcome) return ok(outcome);
      // Answered, but with neither a cutout nor a failure: it may have been done (and charged).
      return err({ kind: 'transient', detail: 'the answer had no cutout', mayHaveCreated: true });
    }
    if (body === undefined && httpStatus >= 200 && httpStatus < 300) {
      return err({ kind: 'transient', detail: 'the answer was not JSON', mayHaveCreated: true });
    }
    return err(answerFault(code, body, headers, this.#scrub));
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }

  /** One call; an answer over `maxBytes` (announced or counted) is dropped without parsing. */
  async #call(
    method: 'GET' | 'POST',
    path: string,
    maxBytes: number,
    body?: FormData,
  ): Promise<
    Result<
      { httpStatus: number; body: unknown; headers: Record<string, string | string[] | undefined> },
      UpstreamFault
    >
  > {
    try {
      const response = await request(`${this.#options.baseUrl}${path}`, {
        method,
        body,
        dispatcher: this.#agent,
        headers: { 'x-api-key': this.#options.apiKey, accept: 'application/json' },
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
      const raw = await readUpTo(response.body, Number(response.headers['content-length'] ?? 0), maxBytes);
      if (raw === null) {
        const answered = response.statusCode >= 200 && response.statusCode < 300;
        return err({
          kind: 'transient',
          detail: `the answer was larger than ${maxBytes} bytes`,
          mayHaveCreated: method === 'POST' && answered,
        });
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        parsed = undefined;
      }
      return ok({ httpStatus: response.statusCode, body: parsed, headers: response.headers });
    } catch (error) {
      return err(networkFault(error, this.#options.timeoutMs));
    }
  }
}

/** A form holding the image as PicWish takes it: `image_file` (streamed from disk when a file) or `image_url`. */
async function imageForm(image: OutgoingImage): Promise<FormData> {
  const form = new FormData();
  if (image.kind === 'file') {
    // A file-backed Blob: undici streams it from disk instead of reading it into memory.
    const blob = await openAsBlob(image.path, { type: image.contentType ?? 'image/png' });
    form.set('image_file', blob, basename(image.path));
  } else if (image.kind === 'bytes') {
    form.set('image_file', new Blob([new Uint8Array(image.data)], { type: 'image/png' }), image.name);
  } else {
    form.set('image_url', image.url);
  }
  return form;
}

/** The body as text, or null (and the body destroyed) once it is, or says it will be, over `maxBytes`. */
async function readUpTo(
  body: Dispatcher.ResponseData['body'],
  announced: number,
  maxBytes: number,
): Promise<string | null> {
  if (announced > maxBytes) {
    body.destroy();
    return null;
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) {
      body.destroy();
      return null;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
