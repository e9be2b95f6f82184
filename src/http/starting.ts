import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../shared/send-json.js';
import { sendGraphQLError } from './graphql-errors.js';

/** Seconds a client is asked to wait before trying a gateway that is still starting. */
const RETRY_AFTER_SECONDS = '1';

/**
 * The answers of a gateway that listens but has not finished starting (tasks still being adopted):
 * alive on `/healthz`, `starting` (503) on `/readyz`, and 503 STARTING with `Retry-After` for
 * everything else, so no request waits on a handler that does not exist yet.
 */
export function answerWhileStarting(req: IncomingMessage, res: ServerResponse): void {
  // The body is not wanted; reading it lets the connection carry the client's next request.
  req.resume();
  const path = new URL(req.url ?? '/', 'http://gateway.invalid').pathname;
  if (path === '/healthz') {
    sendJson(res, 200, { status: 'ok' });
  } else if (path === '/readyz') {
    sendJson(res, 503, { status: 'starting' }, { 'retry-after': RETRY_AFTER_SECONDS });
  } else {
    res.setHeader('retry-after', RETRY_AFTER_SECONDS);
    sendGraphQLError(res, 503, 'The gateway is starting; try again in a moment.', { code: 'STARTING' });
  }
}
