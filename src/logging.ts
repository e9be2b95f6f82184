import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config/config.js';

/** What every log line and every masked error of one HTTP request can name. */
export interface RequestScope {
  readonly requestId: string;
}

/**
 * Carries the request id through everything a request causes, so log lines and the error masker
 * can attach it without threading it through every call.
 */
export const requestScope = new AsyncLocalStorage<RequestScope>();

/** Reuses a caller's sane `x-request-id` (for tracing across services), else makes one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && /^[A-Za-z0-9._:-]{1,128}$/.test(value) ? value : randomUUID();
}

/**
 * Paths pino blanks out wherever they appear in a logged object. Secrets should never be logged
 * in the first place; this is the second line of defence.
 */
export const REDACTED_PATHS = [
  'apiKey',
  '*.apiKey',
  'picwish.apiKey',
  'headers.authorization',
  'headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'authorization',
  'signingSecret',
  '*.signingSecret',
  'files.signingSecret',
  'auth.apiKeys',
  'key',
];

/** JSON logs with the request id of the current request on every line. */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      mixin: () => {
        const scope = requestScope.getStore();
        return scope ? { requestId: scope.requestId } : {};
      },
    },
    destination,
  );
}
