import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import { sendError } from '../../src/local-engine/reply.js';

/**
 * Misbehaviour the PicWish double (picwish-double.ts) acts out instead of passing a call to the
 * engine, so the gateway's handling of a flaky or hostile upstream (error codes, HTML pages from a
 * proxy, hangs, dropped connections, failure states, tasks that never end, answers PicWish would
 * never send) is tested over real HTTP.
 */

/** An error answer with PicWish's JSON body `{status, message}` and the same HTTP status. */
export interface StatusFault {
  kind?: 'status';
  status: 400 | 401 | 413 | 429 | 500 | 502 | 503;
  message?: string;
  /** Sent as a Retry-After header, to test that the gateway honours it. */
  retryAfterSeconds?: number;
}

/** An HTML error page, as a proxy or load balancer in front of PicWish would answer. */
export interface HtmlFault {
  kind: 'html';
  /** Default 502. */
  status?: number;
}

/** Never answers; the socket stays open until the double closes. */
export interface HangFault {
  kind: 'hang';
}

/** Destroys the socket without an answer. */
export interface ResetFault {
  kind: 'reset';
}

/** A misbehaviour injected into the next create, poll or background removal. */
export type CreateFault = StatusFault | HtmlFault | HangFault | ResetFault;

/** A misbehaviour injected into the next poll; the same shapes as for creates. */
export type PollFault = CreateFault;

/** How a scripted upstream answers one call; it may write anything, or nothing at all. */
export type ScriptedAnswer = (req: IncomingMessage, res: ServerResponse) => void;

/** Mutable switches for the gateway's fault tests; each takes effect on the next request. */
export interface FaultSwitches {
  /** Consumed one per create, before authentication; a faulted create creates nothing. */
  createFaults: CreateFault[];
  /** Consumed one per poll (GET of a task), before authentication. */
  pollFaults: PollFault[];
  /** Consumed one per background removal (POST to the segmentation endpoint), before authentication. */
  segmentationFaults: CreateFault[];
  /** Consumed one per accepted create: that task ends in this state (-1, -2, -3, -5, -7, -8) instead of success; 1 lets it succeed. */
  nextTaskStates: number[];
  /** While on, accepted tasks stay at state 4 forever (for deadline tests). */
  acceptCreatesWithoutProcessing?: boolean;
  /** While set, every create (after a queued fault) gets this answer instead of the engine's. */
  createAnswer?: ScriptedAnswer;
  /** While set, every poll (after a queued fault) gets this answer instead of the engine's. */
  pollAnswer?: ScriptedAnswer;
}

/** Fresh switches, all off. */
export function noFaults(): FaultSwitches {
  return {
    createFaults: [],
    pollFaults: [],
    segmentationFaults: [],
    nextTaskStates: [],
    acceptCreatesWithoutProcessing: false,
  };
}

/** A scripted answer: JSON with a status. */
export function json(status: number, body: unknown): ScriptedAnswer {
  return (_req, res) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
}

/** Acts out a fault on the request; 'hang' deliberately leaves the response open until shutdown. */
export function actOutFault(fault: CreateFault, req: IncomingMessage, res: ServerResponse): void {
  switch (fault.kind) {
    case 'html':
      sendHtmlError(res, fault.status ?? 502);
      return;
    case 'hang':
      return;
    case 'reset':
      req.socket.destroy();
      return;
    default: {
      const headers: Record<string, string> =
        fault.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(fault.retryAfterSeconds) };
      sendError(res, fault.status, fault.message ?? `injected fault ${fault.status}`, headers);
    }
  }
}

/** An HTML error page like the one a proxy in front of an API answers with. */
function sendHtmlError(res: ServerResponse, status: number): void {
  const title = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
  const page = `<!DOCTYPE html>\n<html><head><title>${title}</title></head><body><center><h1>${title}</h1></center><hr><center>nginx</center></body></html>\n`;
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(page),
  });
  res.end(page);
}
