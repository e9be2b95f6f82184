import type { IncomingMessage, ServerResponse } from 'node:http';
import { processRequest } from 'graphql-upload-minimal';
import { MAX_BATCH_ITEMS } from '../core/batches.js';
import { badInput } from '../core/errors.js';
import { toGraphQLError } from '../graphql/schema/errors.js';
import { PICWISH_PNG_LIMITS } from '../images/limits.js';
import { sendGraphQLError } from './graphql-errors.js';
import { discardRest, refuse } from './refusal.js';
import { MAX_JSON_BODY_BYTES } from './request-body.js';

/**
 * The largest body Yoga lets through by its `Content-Length`: a `generateBackgrounds` multipart
 * request with a 20 MB file for each of its 50 inputs, plus `operations` and `map` (a JSON body's
 * limit each). Yoga's default (25 MB) would refuse a batch of uploads accepted here part by part;
 * the node handler bounds every body before Yoga sees it (JSON bodies whole, multipart per part),
 * so this only keeps Yoga's own check in step with those bounds.
 */
export const MAX_REQUEST_BODY_BYTES =
  MAX_BATCH_ITEMS * (PICWISH_PNG_LIMITS.maxBytes + 64 * 1024) + 2 * MAX_JSON_BODY_BYTES;

/** Headers that prove a request was not sent by a plain HTML form (the CSRF guard for uploads). */
export const PREFLIGHT_HEADERS = ['apollo-require-preflight', 'x-graphql-yoga-csrf'] as const;

/** True for a `multipart/form-data` request, which Yoga must not parse itself. */
export function isMultipart(req: IncomingMessage): boolean {
  return /^multipart\/form-data\b/i.test(req.headers['content-type'] ?? '');
}

/**
 * The GraphQL multipart request spec in front of Yoga. graphql-upload-minimal parses the
 * `operations` and `map` fields and leaves each file as a stream that the resolver reads straight
 * into the spool, so a 20 MB upload is never held in memory. Yoga then sees `req.body` as the
 * already-parsed JSON body.
 *
 * Multipart is a "simple" request a browser form can send cross-site, so it must carry a
 * preflight header; Yoga's CSRF check cannot see that any more once the body is parsed here.
 *
 * When the answer goes out before the client finished sending (a refused or oversized file), the
 * rest is read and discarded up to a bound (refusal.ts), so a browser reads the answer instead of
 * a reset. Returns false when it already answered.
 */
export async function preparseUpload(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const parser = watchParser(req);
  res.once('finish', () => {
    // A file refused from its first bytes leaves the multipart parser waiting on a stream nobody
    // reads: detached, the rest of the body is read and dropped, and the connection serves the
    // client's next request instead of stalling until it is reset.
    if (!req.readableEnded) parser.stop();
    discardRest(req);
  });
  if (!PREFLIGHT_HEADERS.some((name) => req.headers[name] !== undefined)) {
    refuse(
      req,
      res,
      400,
      'Multipart requests must carry an "apollo-require-preflight" or "x-graphql-yoga-csrf" header (CSRF protection).',
      { code: 'CSRF_PREVENTED' },
    );
    return false;
  }
  try {
    // One byte over the limit lets the spool tell "exactly 20 MB" from "more than 20 MB".
    const operations: unknown = await processRequest(req, res, {
      maxFileSize: PICWISH_PNG_LIMITS.maxBytes + 1,
      // generateBackgrounds takes a file per input; each is still read as a stream, in turn.
      maxFiles: MAX_BATCH_ITEMS,
      maxFieldSize: MAX_JSON_BODY_BYTES,
    });
    if (!isOperations(operations)) {
      // Yoga would answer `[]`, `{}` or `[1]` with an empty 415, not a GraphQL-shaped error.
      sendGraphQLError(
        res,
        400,
        "The 'operations' multipart field must hold a GraphQL request object or a non-empty array of them.",
        { code: 'BAD_REQUEST' },
      );
      return false;
    }
    const conflict = sharedMapPath(parser.map);
    if (conflict !== null) {
      // The resolver would wait for the later file while the earlier one, read by nobody, holds
      // the multipart stream: answer now, and let the rest of the body be read and dropped.
      parser.stop();
      const field = conflict.replace(/^(\d+\.)?variables\./, '').split('.');
      const error = toGraphQLError(
        badInput(
          'INVALID_VARIABLE',
          field,
          `Several files are mapped to ${conflict} in the multipart 'map'; map each file to its own variable or list item.`,
        ),
      );
      refuse(req, res, 400, error.message, error.extensions);
      return false;
    }
    (req as IncomingMessage & { body?: unknown }).body = operations;
    return true;
  } catch (error) {
    const status = (error as { status?: number }).status;
    const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST';
    const httpStatus = status && status >= 400 && status < 500 ? status : 400;
    sendGraphQLError(res, httpStatus === 499 ? 400 : httpStatus, (error as Error).message, { code });
    return false;
  }
}

/** Yoga takes an empty object for "no parsed body" and answers an empty 415, so `{}` is refused too. */
function isRequestObject(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0
  );
}

/** One GraphQL request, or a batch of at least one. */
function isOperations(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 && value.every(isRequestObject) : isRequestObject(value);
}

/** The parser graphql-upload-minimal pipes `req` into, as seen from here. */
interface WatchedParser {
  /** The `map` field's text once the parser has read it. */
  readonly map: string | null;
  /** Detaches the parser from the request and ends it (the request's rest is then discarded). */
  stop(): void;
}

/**
 * Watches the multipart parser graphql-upload-minimal pipes `req` into: it notes the `map` field
 * (which processRequest parses but does not expose), and guards its errors. graphql-upload-minimal
 * handles only the first `error` of its parser (`once`), yet a broken body can make busboy emit a
 * second one (say "Unexpected end of form" while it is being destroyed after the first), which
 * would be an uncaught exception and take the process down. A standing listener there makes later
 * errors harmless, while the first one still reaches processRequest and becomes a 400.
 */
function watchParser(req: IncomingMessage): WatchedParser {
  let map: string | null = null;
  let parser: NodeJS.WritableStream | null = null;
  const pipe = req.pipe;
  req.pipe = function pipeGuarded<T extends NodeJS.WritableStream>(
    this: IncomingMessage,
    destination: T,
    options?: { end?: boolean },
  ): T {
    parser = destination;
    destination.on('error', ignoreLaterParserError);
    destination.on('field', (name: string, value: string) => {
      if (name === 'map') map = value;
    });
    return pipe.call(this, destination, options) as T;
  };
  return {
    get map() {
      return map;
    },
    stop() {
      if (!parser) return;
      req.unpipe(parser);
      (parser as NodeJS.WritableStream & { destroy(): void }).destroy();
    },
  };
}

function ignoreLaterParserError(): void {
  // The first error was already turned into the answer; see watchParser.
}

/**
 * The first operations path that two different files of the `map` are placed at, or null. The
 * multipart spec leaves it undefined; graphql-upload-minimal keeps the last, so a resolver would
 * wait forever behind the earlier file that nobody reads.
 */
export function sharedMapPath(map: string | null): string | null {
  if (map === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(map);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const owner = new Map<string, string>();
  for (const [file, paths] of Object.entries(parsed)) {
    if (!Array.isArray(paths)) continue;
    for (const path of paths) {
      if (typeof path !== 'string') continue;
      const earlier = owner.get(path);
      if (earlier !== undefined && earlier !== file) return path;
      owner.set(path, file);
    }
  }
  return null;
}
