/**
 * Why an outbound fetch was refused or failed, as values: the guarded fetcher never throws for
 * anything a URL, a DNS answer or a remote server can do. The reasons double as the gateway's
 * `extensions.reason` for image URLs, so each one says what the person who gave the URL can fix.
 */

/** Every reason, so callers and tests can tell a known refusal from anything else. */
export const OUTBOUND_REASONS = [
  'URL_NOT_ALLOWED',
  'URL_UNREACHABLE',
  'URL_TOO_LARGE',
  'URL_TIMEOUT',
  'URL_TOO_MANY_REDIRECTS',
  'NOT_AN_IMAGE',
] as const;

/** Stable machine-readable reasons. */
export type OutboundReason = (typeof OUTBOUND_REASONS)[number];

/**
 * One refusal or failure. `status` is the remote's HTTP status when the failure is an answer
 * (a 404, say), so a caller can tell "gone" from "try again"; absent for anything else.
 */
export interface OutboundProblem {
  readonly reason: OutboundReason;
  readonly message: string;
  readonly status?: number;
}

/** Builds a problem in one expression, so checks read as `return err(outboundProblem(...))`. */
export function outboundProblem(reason: OutboundReason, message: string, status?: number): OutboundProblem {
  return status === undefined ? { reason, message } : { reason, message, status };
}
