/**
 * Errors as values: what services return when a caller did something the gateway refuses. The
 * schema layer turns each into a GraphQL error in one place (src/schema/errors.ts); nothing else
 * builds GraphQL errors, so the codes and reasons in the README's table stay the whole story.
 */

import { IMAGE_PROBLEM_REASONS } from '../images/problems.js';
import { OUTBOUND_REASONS } from '../outbound/problems.js';

/** Stable `extensions.reason` values for BAD_USER_INPUT (and the schema's `InputProblemReason`). */
export const INPUT_REASONS = [
  ...IMAGE_PROBLEM_REASONS,
  ...OUTBOUND_REASONS,
  'UPLOAD_MISSING',
  'INVALID_URL',
  'PROMPT_EMPTY',
  'PROMPT_TOO_LONG',
  'NEGATIVE_PROMPT_TOO_LONG',
  'INVALID_BATCH_SIZE',
  'INVALID_INPUT_COUNT',
  'ONE_OF_VIOLATION',
  'INVALID_VARIABLE',
  'IDEMPOTENCY_KEY_INVALID',
  'IDEMPOTENCY_KEY_REUSED',
  'INVALID_DEADLINE',
  'INVALID_WAIT_SECONDS',
  'INVALID_PAGE_SIZE',
  'INVALID_CURSOR',
  'TOO_MANY_IDS',
  'REPEATED_IDS',
  'INVALID_PERIOD',
  'INVALID_RENDITION',
  'WEBHOOK_URL_REQUIRED',
  'WEBHOOK_EVENTS_EMPTY',
  'INVALID_SUBJECT',
  'INVALID_TTL',
] as const;

/** One of `INPUT_REASONS`. */
export type InputReason = (typeof INPUT_REASONS)[number];

/** One refused input field: `field` is the path inside the operation's arguments. */
export interface InputProblem {
  readonly reason: InputReason;
  readonly field: readonly string[];
  readonly message: string;
}

/** Everything a service can refuse with; `kind` picks the GraphQL `extensions.code`. */
export type GatewayError =
  | { readonly kind: 'BAD_USER_INPUT'; readonly problems: readonly [InputProblem, ...InputProblem[]] }
  | { readonly kind: 'NOT_FOUND'; readonly message: string }
  | { readonly kind: 'RATE_LIMITED'; readonly message: string; readonly retryAfterSeconds: number }
  | {
      /** A daily credit cap (#25) would be passed: nothing was created or sent. */
      readonly kind: 'QUOTA_EXCEEDED';
      readonly message: string;
      /** When the cap's day ends (midnight UTC). */
      readonly resetsAt: Date;
      readonly retryAfterSeconds: number;
    }
  | { readonly kind: 'FORBIDDEN'; readonly message: string }
  | {
      readonly kind: 'UNAUTHENTICATED';
      readonly message: string;
      /** Why a token was refused (#23): an expired one can be renewed, an invalid one cannot. */
      readonly reason?: 'TOKEN_EXPIRED' | 'TOKEN_INVALID';
    };

/** Shorthand for a BAD_USER_INPUT with one problem. */
export function badInput(reason: InputReason, field: readonly string[], message: string): GatewayError {
  return { kind: 'BAD_USER_INPUT', problems: [{ reason, field, message }] };
}
