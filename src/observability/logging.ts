import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/config.js';
import { currentTraceId } from './tracing.js';

/** What every log line and every masked error of one HTTP request can name. */
export interface RequestScope {
  readonly requestId: string;
  /**
   * The client's own `x-request-id` when it was not fit to be the request id (too long, or with
   * characters outside `[A-Za-z0-9._-]`), logged beside the gateway's id so the two can be matched.
   */
  readonly clientRequestId?: string;
}

/**
 * Carries the request id through everything a request causes, so log lines and the error masker
 * can attach it without threading it through every call. Entered through `runInRequestScope`.
 */
export const requestScope = new AsyncLocalStorage<RequestScope>();

let openScopes = 0;

/**
 * Runs `work` with the request id in `requestScope`, which stays open until both `work` and
 * `until` have settled. On Node 20 an enabled AsyncLocalStorage runs a promise hook for every
 * promise in the process, whoever made it — a fifth of the CPU of a cached answer
 * (docs/benchmarks.md) — so only requests that can log on their own behalf enter a scope, and
 * the storage is disabled again whenever no scope is open (`run` re-enables it).
 */
export function runInRequestScope(
  scope: string | RequestScope,
  work: () => Promise<void> | void,
  until: Promise<unknown>,
): Promise<void> {
  openScopes += 1;
  let result: Promise<void>;
  try {
    result = Promise.resolve(
      requestScope.run(typeof scope === 'string' ? { requestId: scope } : scope, work),
    );
  } catch (error) {
    result = Promise.reject(error);
  }
  void Promise.allSettled([result, until]).then(() => {
    openScopes -= 1;
    if (openScopes === 0) requestScope.disable();
  });
  return result;
}

/** What a request id the client chooses may be: short, and safe in any log or header. */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** How much of an unfit client id is kept for the log. */
const CLIENT_ID_LOGGED_CHARS = 64;

/**
 * The request's id: the caller's `x-request-id` when it fits {@link CLIENT_REQUEST_ID} (for
 * tracing across services), else a fresh one — with the caller's value, cut short and with
 * control characters dropped, kept as `clientRequestId` for the log only.
 */
export function requestIdFrom(header: string | string[] | undefined): RequestScope {
  const value = Array.isArray(header) ? header[0] : header;
  if (value !== undefined && CLIENT_REQUEST_ID.test(value)) return { requestId: value };
  if (value === undefined || value === '') return { requestId: randomUUID() };
  return {
    requestId: randomUUID(),
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is dropped
    clientRequestId: value.slice(0, CLIENT_ID_LOGGED_CHARS).replace(/[\u0000-\u001f\u007f]/g, ''),
  };
}

/**
 * Paths pino blanks out wherever they appear in a logged object. Secrets should never be logged
 * in the first place; this is the second line of defence.
 */
export const REDACTED_PATHS = [
  'apiKey',
  '*.apiKey',
  'picwish.apiKey',
  'picwish.apiKeys',
  'apiKeys',
  'headers.authorization',
  'headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'authorization',
  'signingSecret',
  '*.signingSecret',
  'files.signingSecret',
  'sessionTokenSecret',
  'identity.sessionTokenSecret',
  'token',
  '*.token',
  'auth.apiKeys',
  'key',
];

/** JSON logs with the request id of the current request, and the current trace id when tracing, on every line. */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      mixin: () => {
        const scope = requestScope.getStore();
        const traceId = currentTraceId();
        const fields: { requestId?: string; clientRequestId?: string; traceId?: string } = scope
          ? { ...scope }
          : {};
        if (traceId) fields.traceId = traceId;
        return fields;
      },
    },
    destination,
  );
}
