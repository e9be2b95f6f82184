import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError, sendHtmlError } from './reply.js';
import type { CreateFault, FaultSwitches } from './types.js';

/**
 * Injected misbehaviour, so the gateway's handling of a flaky upstream (error codes, HTML pages
 * from a proxy, hangs, dropped connections) is tested over real HTTP.
 */

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
