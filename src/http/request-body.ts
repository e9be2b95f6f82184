import type { IncomingMessage, ServerResponse } from 'node:http';
import { refuse } from './refusal.js';

/**
 * The largest GraphQL request read as JSON, wherever it comes: a JSON body on `/graphql` or
 * `/graphql/stream`, or a multipart request's `operations` and `map` fields (upload.ts). Uploaded
 * files have their own limit (PICWISH_PNG_LIMITS).
 */
export const MAX_JSON_BODY_BYTES = 1024 * 1024;

/**
 * The body's chunks, or null as soon as it grows past `limit` bytes (or the client goes away
 * before the end): the http layer's one body reader. Over the limit the request is left paused,
 * not destroyed, so the caller can still answer on its connection (destroying it would also take
 * the socket away) and discard the rest (refusal.ts).
 */
export function readUpTo(req: IncomingMessage, limit: number): Promise<Buffer[] | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = (value: Buffer[] | null) => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total <= limit) {
        chunks.push(chunk);
        return;
      }
      req.pause();
      done(null);
    };
    const onEnd = () => done(chunks);
    // A client that went away mid-body has no one to answer: null, and the refusal goes nowhere.
    const onClose = () => done(null);
    const onError = () => done(null);
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/** Answers a body over `limit` bytes with 413 `PAYLOAD_TOO_LARGE`, and discards the rest of it. */
export function refuseLargeBody(
  req: IncomingMessage,
  res: ServerResponse,
  limit = MAX_JSON_BODY_BYTES,
): void {
  refuse(req, res, 413, `The request body is over ${limit} bytes.`, { code: 'PAYLOAD_TOO_LARGE' });
}
