import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Yoga's server context: the node request (with what the HTTP layer attached to it — the tenant
 * its key named, the request id) and its response. Its own module, so Yoga's plugins can name it
 * without importing the Yoga factory that installs them.
 */
export interface ServerContext {
  req: IncomingMessage & { tenantId?: string; requestId?: string };
  res: ServerResponse;
}
