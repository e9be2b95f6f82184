import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { sendJson } from '../shared/send-json.js';
import { cutOutUniformBorder } from './cutout.js';
import { type ParsedForm, parseForm, readBody, validateCreate } from './form.js';
import type { JobInput } from './pipeline.js';
import type { SlidingWindowLimiter } from './rate-limit.js';
import { sendError } from './reply.js';
import type { TaskStore } from './tasks.js';

/**
 * PicWish's REST contract over node:http: create, poll, and the engine's own result downloads.
 * Everything here is about HTTP (auth, limits, status codes; bodies and forms in form.ts); the
 * work itself is handed to `accept` and runs after the create is answered, as it does at PicWish.
 */

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
  tasks: TaskStore;
  limiter: SlidingWindowLimiter;
  /** The engine's clock (epoch milliseconds). */
  clock: () => number;
  /** Creates a task of `apiKey` for a validated create and starts its work; returns the task id. */
  accept: (input: JobInput, apiKey: string) => string;
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
    return handleResult(context, res, result[1]!);
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
  if (context.limiter.tryAcquire(apiKey, context.clock())) return true;
  sendError(res, 429, 'too many requests: over the QPS limit of this API key');
  return false;
}

/**
 * What every POST shares, in PicWish's order: read the body, check the key and the QPS limit (one
 * limit for every endpoint), then parse. Null when an answer was already sent.
 */
async function admittedForm(
  context: RoutesContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<{ form: ParsedForm; apiKey: string } | null> {
  const body = await readBody(req);
  if (!body.ok && body.error === 'aborted') return null;
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
  const admitted = await admittedForm(context, req, res);
  if (!admitted) return;
  const input = validateCreate(admitted.form);
  if (!input.ok) return sendError(res, input.error.status, input.error.message);
  const taskId = context.accept(input.value, admitted.apiKey);
  sendJson(res, 200, { status: 200, message: 'success', data: { task_id: taskId } });
}

/**
 * `POST /api/tasks/visual/segmentation` with `sync=1`: the same key and QPS checks as a create,
 * then a flood-fill cutout (cutout.ts, not AI) answered in the call as base64 PNG.
 */
async function handleSegmentation(
  context: RoutesContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const admitted = await admittedForm(context, req, res);
  if (!admitted) return;
  const { form } = admitted;
  if (form.fields.get('sync') !== '1') return sendError(res, 400, 'the local engine answers sync=1 only');
  const photo = form.files.get('image_file');
  if (!photo) return sendError(res, 400, 'image_file is required');
  const cutout = await cutOutUniformBorder(photo);
  if (!cutout.ok) return sendJson(res, 200, { status: 200, data: { state: -1, err_message: cutout.error } });
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
  const apiKey = keyOf(context, req);
  if (apiKey === null) sendError(res, 401, 'invalid API key');
  else if (admit(context, res, apiKey)) {
    const view = context.tasks.view(taskId, context.clock(), context.baseUrl(), apiKey);
    if (view) sendJson(res, 200, { status: 200, message: 'success', data: view });
    else sendError(res, 404, 'task not found');
  }
}

function handleResult(context: RoutesContext, res: ServerResponse, resultId: string): void {
  const png = context.tasks.result(resultId, context.clock());
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
