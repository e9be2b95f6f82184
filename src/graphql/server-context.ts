import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Caller } from '../core/caller.js';

/**
 * Yoga's server context: the node request (with what the HTTP layer attached to it — the caller
 * its credential named, the request id) and its response. Its own module, so Yoga's plugins can name it
 * without importing the Yoga factory that installs them.
 */
export interface ServerContext {
  req: IncomingMessage & { caller?: Caller; requestId?: string };
  res: ServerResponse;
}
