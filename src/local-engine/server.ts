import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { type FormData, Request } from 'undici';
import { err, ok, type Result } from '../shared/result.js';
import { sendJson } from '../shared/send-json.js';
import { cutOutUniformBorder } from './cutout.js';
import { actOutFault } from './faults.js';
import type { JobInput } from './pipeline.js';
import type { SlidingWindowLimiter } from './rate-limit.js';
import { sendError } from './reply.js';
import { MAX_IMAGE_BYTES } from './source.js';
import type { StatsRecorder } from './stats.js';
import type { TaskStore } from './tasks.js';
import type { CreateRecord, FaultSwitches } from './types.js';

/**
 * PicWish's REST contract over node:http: create, poll, and the engine's own result downloads.
 * Everything here is about HTTP (auth, limits, parsing, status codes); the work itself is handed
 * to `accept` and runs after the create is answered, as it does at PicWish.
 */

/** Bodies above this are refused with 413 (a 20 MB image plus generous multipart overhead). */
const MAX_BODY_BYTES = 25 * 1024 * 1024;
/** Past the body limit the engine keeps draining up to here so the client can read the 413. */
const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;
const MAX_PROMPT_CHARS = 1024;

const CREATE_PATH = '/api/tasks/visual/background';
/** Background removal; the engine answers it synchronously only (`sync=1`), with a simple cutout. */
const SEGMENTATION_PATH = '/api/tasks/visual/segmentation';
const TASK_PATH = /^\/api\/tasks\/visual\/background\/([^/]+)$/;
const RESULT_PATH = /^\/results\/([0-9a-f-]{36})\.png$/;

/** What the routes need from the running engine. */
export interface RoutesContext {
  /** Every X-API-KEY accepted; each has its own QPS window. */
  apiKeys: ReadonlySet<string>;
  /** Read per request because the port is only known after listening. */
  baseUrl: () => string;
  faults: FaultSwitches;
  stats: StatsRecorder;
  tasks: TaskStore;
  limiter: SlidingWindowLimiter;
  /** Creates a task of `apiKey` for a validated create and starts its work; returns the task id. */
  accept: (input: JobInput, apiKey: string) => string;
}

interface ParsedForm {
  fields: Map<string, string>;
  files: Map<string, Buffer>;
}

interface Rejection {
  status: 400 | 413;
  message: string;
}

/** The request listener for the engine's HTTP server. */
export function createRequestHandler(context: RoutesContext): RequestListener {
  return (req, res) => {
    route(context, req, res).catch(() => {
      if (!res.headersSent) sendError(res, 500, 'internal error in the local engine');
      else res.destroy();
    });
  };
}

async function route(context: RoutesContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://engine.local').pathname;
  if (path === CREATE_PATH) {
    if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
    return handleCreate(context, req, res);
  }
  if (path === SEGMENTATION_PATH) {
    if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
    return handleSegmentation(context, req, res);
  }
  const task = TASK_PATH.exec(path);
  if (task) {
    if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
    return handlePoll(context, req, res, task[1]!);
  }
  const result = RESULT_PATH.exec(path);
  if (result) {
    if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
    return handleResult(context, res, path, result[1]!);
  }
  sendError(res, 404, 'not found');
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  sendError(res, 405, 'method not allowed', { Allow: allow });
}

/** The request's key when it is one of the engine's; null otherwise. */
function keyOf(context: RoutesContext, req: IncomingMessage): string | null {
  const key = req.headers['x-api-key'];
  return typeof key === 'string' && context.apiKeys.has(key) ? key : null;
}

/** Applies the key's QPS limit, answering 429 itself when its budget is spent. */
function admit(context: RoutesContext, res: ServerResponse, apiKey: string): boolean {
  if (context.limiter.tryAcquire(apiKey, Date.now())) return true;
  context.stats.rateLimited(apiKey);
  sendError(res, 429, 'too many requests: over the QPS limit of this API key');
  return false;
}

/**
 * What every POST shares, in PicWish's order: count the attempt, read the body, act out a queued
 * fault of that endpoint, check the key and the QPS limit (one limit for every endpoint), then
 * parse. Null when an answer was already sent.
 */
async function admittedForm(
  context: RoutesContext,
  req: IncomingMessage,
  res: ServerResponse,
  endpoint: 'create' | 'segmentation',
): Promise<{ form: ParsedForm; apiKey: string } | null> {
  if (endpoint === 'create') context.stats.createAttempt();
  else context.stats.segmentationAttempt();
  const body = await readBody(req);
  if (!body.ok && body.error === 'aborted') return null;
  const fault =
    endpoint === 'create' ? context.faults.createFaults.shift() : context.faults.segmentationFaults.shift();
  if (fault) {
    actOutFault(fault, req, res);
    return null;
  }
  const apiKey = keyOf(context, req);
  if (apiKey === null) return refuse(res, 401, 'invalid API key');
  if (!admit(context, res, apiKey)) return null;
  if (!body.ok) return refuse(res, 413, 'request body too large');
  const form = await parseForm(req.headers['content-type'], body.value);
  return form.ok ? { form: form.value, apiKey } : refuse(res, 400, form.error);
}

function refuse(res: ServerResponse, status: number, message: string): null {
  sendError(res, status, message);
  return null;
}

async function handleCreate(
  context: RoutesContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const admitted = await admittedForm(context, req, res, 'create');
  if (!admitted) return;
  const { form, apiKey } = admitted;
  const image = form.files.get('image_file');
  const record: CreateRecord = {
    fields: Object.fromEntries(form.fields),
    hadFile: image !== undefined,
    ...(image === undefined ? {} : { fileBytes: image.byteLength }),
  };
  context.stats.createParsed(record);

  const input = validateCreate(form);
  if (!input.ok) return sendError(res, input.error.status, input.error.message);
  const taskId = context.accept(input.value, apiKey);
  context.stats.createAccepted(taskId, record, apiKey);
  sendJson(res, 200, { status: 200, message: 'success', data: { task_id: taskId } });
}

/**
 * `POST /api/tasks/visual/segmentation` with `sync=1`: the same kinds of faults (its own switch,
 * `segmentationFaults`), key and QPS checks as a create, then a flood-fill cutout (cutout.ts, not AI) answered in the call as base64 PNG.
 */
async function handleSegmentation(
  context: RoutesContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const admitted = await admittedForm(context, req, res, 'segmentation');
  if (!admitted) return;
  const { form } = admitted;
  if (form.fields.get('sync') !== '1') return sendError(res, 400, 'the local engine answers sync=1 only');
  const photo = form.files.get('image_file');
  if (!photo) return sendError(res, 400, 'image_file is required');
  const cutout = await cutOutUniformBorder(photo);
  if (!cutout.ok) return sendJson(res, 200, { status: 200, data: { state: -1, err_message: cutout.error } });
  context.stats.segmentationDone();
  sendJson(res, 200, {
    status: 200,
    message: 'success',
    data: {
      state: 1,
      progress: 100,
      image: cutout.value.toString('base64'),
      engine: 'local flood fill, not AI',
    },
  });
}

function handlePoll(context: RoutesContext, req: IncomingMessage, res: ServerResponse, taskId: string): void {
  context.stats.poll(taskId);
  const fault = context.faults.pollFaults.shift();
  const apiKey = fault ? null : keyOf(context, req);
  if (fault) actOutFault(fault, req, res);
  else if (apiKey === null) sendError(res, 401, 'invalid API key');
  else if (admit(context, res, apiKey)) {
    context.stats.keyPolled(apiKey);
    const view = context.tasks.view(taskId, Date.now(), context.baseUrl(), apiKey);
    if (view) sendJson(res, 200, { status: 200, message: 'success', data: view });
    else sendError(res, 404, 'task not found');
  }
}

function handleResult(context: RoutesContext, res: ServerResponse, path: string, resultId: string): void {
  context.stats.resultFetch(path);
  const png = context.tasks.result(resultId, Date.now());
  if (!png) {
    sendError(res, 404, 'result not found or expired');
    return;
  }
  res.writeHead(200, {
    'Content-Type': 'image/png',
    'Content-Length': png.byteLength,
    'Cache-Control': 'no-store',
  });
  res.end(png);
}

/** Buffers the body up to MAX_BODY_BYTES; beyond it, drains (so the 413 can be read) and reports it. */
function readBody(req: IncomingMessage): Promise<Result<Buffer, 'too-large' | 'aborted'>> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else chunks.length = 0;
      if (size > DRAIN_LIMIT_BYTES) req.destroy();
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? err('too-large') : ok(Buffer.concat(chunks))));
    req.on('close', () => {
      if (!req.complete) resolve(err('aborted'));
    });
    req.on('error', () => resolve(err('aborted')));
  });
}

async function parseForm(contentType: string | undefined, body: Buffer): Promise<Result<ParsedForm, string>> {
  if (!contentType || !/^\s*(multipart\/form-data|application\/x-www-form-urlencoded)\b/i.test(contentType)) {
    return err('the body must be multipart/form-data');
  }
  let form: FormData;
  try {
    form = await new Request('http://engine.local/', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    }).formData();
  } catch {
    return err('the body is not valid multipart/form-data');
  }
  const parsed: ParsedForm = { fields: new Map(), files: new Map() };
  for (const [name, value] of form) {
    if (typeof value === 'string') {
      if (!parsed.fields.has(name)) parsed.fields.set(name, value);
    } else if (!parsed.files.has(name)) {
      parsed.files.set(name, Buffer.from(await value.arrayBuffer()));
    }
  }
  return ok(parsed);
}

/** Checks the create parameters the way PicWish documents them; the message names the parameter. */
function validateCreate({ fields, files }: ParsedForm): Result<JobInput, Rejection> {
  const bad = (message: string) => err<Rejection>({ status: 400, message });
  for (const name of ['image_url', 'prompt', 'scene_type', 'negative_prompt', 'batch_size']) {
    if (files.has(name)) return bad(`${name} must be a text field, not a file`);
  }
  // Empty values count as absent: PicWish says the other parameter "must be empty".
  const text = (name: string): string | null => {
    const value = fields.get(name);
    return value === undefined || value === '' ? null : value;
  };
  if (text('image_file') !== null) return bad('image_file must be a file');

  // The engine never fetches a URL: it runs on the gateway's host, where a URL could reach what
  // the gateway's guard keeps out. The gateway fetches and checks image URLs itself and sends
  // files, so an image_url here is refused as PicWish refuses a bad parameter.
  if (text('image_url') !== null) {
    return bad('image_url is not supported by the local engine: send the image as image_file');
  }
  const file = files.get('image_file');
  if (!file) return bad('image_file is required');
  if (file.byteLength > MAX_IMAGE_BYTES) {
    return err<Rejection>({ status: 413, message: 'image_file is larger than 20 MB' });
  }

  const prompt = text('prompt');
  const sceneText = text('scene_type');
  if (prompt && sceneText) return bad('prompt and scene_type are mutually exclusive');
  if (!prompt && !sceneText) return bad('prompt or scene_type is required');
  if (prompt && [...prompt].length > MAX_PROMPT_CHARS) return bad('prompt must be at most 1024 characters');
  let sceneType: number | null = null;
  if (sceneText) {
    sceneType = /^\d{1,15}$/.test(sceneText.trim()) ? Number(sceneText.trim()) : Number.NaN;
    if (Number.isNaN(sceneType)) return bad('scene_type must be an integer');
  }

  const batch = text('batch_size') ?? '2';
  if (batch.trim() !== '1' && batch.trim() !== '2') return bad('batch_size must be 1 or 2');

  return ok({
    file,
    prompt,
    sceneType,
    negativePrompt: text('negative_prompt') ?? '',
    batchSize: batch.trim() === '1' ? 1 : 2,
  });
}
