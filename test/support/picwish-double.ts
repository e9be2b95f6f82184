import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, type Dispatcher, request } from 'undici';
import { parseForm } from '../../src/local-engine/form.js';
import { type LocalEngineOptions, startLocalEngine } from '../../src/local-engine/index.js';
import { sendError } from '../../src/local-engine/reply.js';
import { actOutFault, type FaultSwitches, noFaults } from './picwish-faults.js';
import { type CreateRecord, type EngineStats, StatsRecorder } from './picwish-stats.js';

/**
 * The one PicWish double of the suite: the product's local engine (src/local-engine/) behind a
 * recording, fault-switching HTTP proxy on loopback. The gateway under test talks to the proxy; the
 * proxy counts every call (picwish-stats.ts), acts out the misbehaviour a test queued or scripted
 * (picwish-faults.ts) and otherwise passes the call to the engine, rewriting the engine's origin in
 * result links to its own so the links stay on the upstream's origin.
 */

export type { CreateFault, FaultSwitches, PollFault, ScriptedAnswer } from './picwish-faults.js';
export { json } from './picwish-faults.js';
export type { CreateRecord, EngineStats } from './picwish-stats.js';

const CREATE_PATH = '/api/tasks/visual/background';
const SEGMENTATION_PATH = '/api/tasks/visual/segmentation';
const TASK_PATH = /^\/api\/tasks\/visual\/background\/([^/]+)$/;
const RESULT_PATH = /^\/results\/[^/]+$/;
/** Headers of one hop that the proxy sets itself. */
const HOP_HEADERS = ['host', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'];

/** A running double: where the gateway reaches it, the switches and counters, and how to stop it. */
export interface PicWishDouble {
  /** The proxy's base URL, without a trailing slash: point the gateway here. */
  readonly url: string;
  /** The engine's own URL behind the proxy (calls there are neither counted nor faulted). */
  readonly engineUrl: string;
  readonly apiKey: string;
  /** `apiKey` first, then `extraApiKeys`. */
  readonly apiKeys: readonly string[];
  readonly faults: FaultSwitches;
  /** A snapshot; later requests do not change it. */
  stats(): EngineStats;
  resetStats(): void;
  /** Drops every connection (hung ones too), then stops the engine. */
  close(): Promise<void>;
}

interface EngineAnswer {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** Starts the engine with `options` and the proxy in front of it. */
export async function startPicWishDouble(options: LocalEngineOptions = {}): Promise<PicWishDouble> {
  const engine = await startLocalEngine(options);
  const faults = noFaults();
  const stats = new StatsRecorder();
  /** Tasks that must end in a failure state, and tasks that must never end. */
  const forced = new Map<string, number>();
  const frozen = new Set<string>();
  const agent = new Agent();
  const open = new Set<ServerResponse>();
  let url = '';

  const forward = async (req: IncomingMessage, body: Buffer): Promise<EngineAnswer> => {
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(
        ([name, value]) => value !== undefined && !HOP_HEADERS.includes(name),
      ),
    ) as Record<string, string | string[]>;
    const answer = await request(`${engine.url}${req.url ?? '/'}`, {
      method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
      headers,
      body: body.byteLength > 0 ? body : null,
      dispatcher: agent,
    });
    const bytes = Buffer.from(await answer.body.arrayBuffer());
    const kept = Object.fromEntries(
      Object.entries(answer.headers).filter(
        ([name, value]) => value !== undefined && !HOP_HEADERS.includes(name),
      ),
    ) as Record<string, string | string[]>;
    const isJson = String(answer.headers['content-type'] ?? '').includes('json');
    return {
      status: answer.statusCode,
      headers: kept,
      body: isJson ? Buffer.from(bytes.toString('utf8').replaceAll(engine.url, url)) : bytes,
    };
  };

  const send = (res: ServerResponse, answer: EngineAnswer): void => {
    res.writeHead(answer.status, { ...answer.headers, 'content-length': answer.body.byteLength });
    res.end(answer.body);
  };

  const create = async (req: IncomingMessage, res: ServerResponse, body: Buffer, key: string) => {
    stats.createAttempt();
    const fault = faults.createFaults.shift();
    if (fault) return actOutFault(fault, req, res);
    if (faults.createAnswer) return faults.createAnswer(req, res);
    // Read beside the engine's work, so that counting adds no time to the create's answer.
    const reading = recordOf(req, body);
    const answer = await forward(req, body);
    if (answer.status === 429) stats.rateLimited(key);
    // The engine parses a create only once its key, QPS limit and body size passed.
    const record = [401, 413, 429].includes(answer.status) ? undefined : await reading;
    if (record) stats.createParsed(record);
    const taskId = answer.status === 200 ? dataOf(answer)?.task_id : undefined;
    if (typeof taskId === 'string') {
      stats.createAccepted(taskId, record, key);
      const state = faults.nextTaskStates.shift();
      if (state !== undefined && state !== 1) forced.set(taskId, state);
      else if (state === undefined && faults.acceptCreatesWithoutProcessing) frozen.add(taskId);
    }
    send(res, answer);
  };

  const segmentation = async (req: IncomingMessage, res: ServerResponse, body: Buffer, key: string) => {
    stats.segmentationAttempt();
    const fault = faults.segmentationFaults.shift();
    if (fault) return actOutFault(fault, req, res);
    const answer = await forward(req, body);
    if (answer.status === 429) stats.rateLimited(key);
    if (answer.status === 200 && dataOf(answer)?.state === 1) stats.segmentationDone();
    send(res, answer);
  };

  const poll = async (req: IncomingMessage, res: ServerResponse, taskId: string, key: string) => {
    stats.poll(taskId);
    const fault = faults.pollFaults.shift();
    if (fault) return actOutFault(fault, req, res);
    if (faults.pollAnswer) return faults.pollAnswer(req, res);
    const answer = await forward(req, Buffer.alloc(0));
    if (answer.status === 429) stats.rateLimited(key);
    else if (answer.status !== 401) stats.keyPolled(key);
    send(res, answer.status === 200 ? actedOut(answer, forced.get(taskId), frozen.has(taskId)) : answer);
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readAll(req);
    if (body === null) return;
    const path = new URL(req.url ?? '/', 'http://double.local').pathname;
    const key = String(req.headers['x-api-key'] ?? '');
    const task = TASK_PATH.exec(path);
    if (req.method === 'POST' && path === CREATE_PATH) return create(req, res, body, key);
    if (req.method === 'POST' && path === SEGMENTATION_PATH) return segmentation(req, res, body, key);
    if (req.method === 'GET' && task) return poll(req, res, task[1]!, key);
    if (req.method === 'GET' && RESULT_PATH.test(path)) stats.resultFetch(path);
    send(res, await forward(req, body));
  };

  const server = createServer((req, res) => {
    open.add(res);
    res.once('close', () => open.delete(res));
    route(req, res).catch(() => {
      if (!res.headersSent) sendError(res, 502, 'the PicWish double could not reach the local engine');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    engineUrl: engine.url,
    apiKey: engine.apiKey,
    apiKeys: engine.apiKeys,
    faults,
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    close: () => {
      closing ??= (async () => {
        for (const res of open) res.destroy();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await agent.destroy();
        await engine.close();
      })();
      return closing;
    },
  };
}

/** The whole request body, or null when the client went away first. */
function readAll(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('close', () => {
      if (!req.complete) resolve(null);
    });
  });
}

/** What a create carried, as the engine reads it. */
async function recordOf(req: IncomingMessage, body: Buffer): Promise<CreateRecord | undefined> {
  const form = await parseForm(req.headers['content-type'], body);
  if (!form.ok) return undefined;
  const image = form.value.files.get('image_file');
  return {
    fields: Object.fromEntries(form.value.fields),
    hadFile: image !== undefined,
    ...(image === undefined ? {} : { fileBytes: image.byteLength }),
  };
}

function dataOf(answer: EngineAnswer): Record<string, unknown> | undefined {
  try {
    return (JSON.parse(answer.body.toString('utf8')) as { data?: Record<string, unknown> }).data;
  } catch {
    return undefined;
  }
}

/**
 * A finished task's poll answer as the switches want it: a forced failure state (no images), or
 * still processing forever for a frozen task.
 */
function actedOut(answer: EngineAnswer, forcedState: number | undefined, frozen: boolean): EngineAnswer {
  const data = dataOf(answer);
  const finished = typeof data?.state === 'number' && (data.state === 1 || data.state < 0);
  if (!data || !finished || (forcedState === undefined && !frozen)) return answer;
  const view =
    forcedState === undefined
      ? {
          ...data,
          state: 4,
          progress: 99,
          completed_at: 0,
          image_1: '',
          image_2: '',
          state_detail: 'Processing',
        }
      : {
          ...data,
          state: forcedState,
          image_1: '',
          image_2: '',
          state_detail: `Failed with state ${forcedState} (injected)`,
        };
  return { ...answer, body: Buffer.from(JSON.stringify({ status: 200, message: 'success', data: view })) };
}
