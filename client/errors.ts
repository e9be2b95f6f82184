/** One problem of a refused input, as the gateway lists them in `extensions.problems`. */
export interface InputProblem {
  readonly reason: string;
  readonly field: string;
  readonly message: string;
}

/** The codes the gateway documents in docs/errors.md, plus the kit's own for transport failures. */
export type GatewayErrorCode =
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'RATE_LIMITED'
  /** A daily credit cap would be passed; `resetsAt` says when it starts afresh. */
  | 'QUOTA_EXCEEDED'
  | 'UNAUTHENTICATED'
  /** A session token asked for a server-only operation (webhook secret, minting tokens, …). */
  | 'FORBIDDEN'
  | 'FORBIDDEN_ORIGIN'
  | 'CSRF_PREVENTED'
  | 'BAD_REQUEST'
  | 'PAYLOAD_TOO_LARGE'
  | 'GRAPHQL_PARSE_FAILED'
  | 'GRAPHQL_VALIDATION_FAILED'
  /** An operation cost, or its answer's size, was over the gateway's limits. */
  | 'COST_LIMIT_EXCEEDED'
  | 'ANSWER_TOO_LARGE'
  | 'INTERNAL_SERVER_ERROR'
  /** The kit could not reach the gateway, or the live stream kept dropping. */
  | 'NETWORK_ERROR'
  | (string & {});

interface GraphQLErrorLike {
  readonly message?: unknown;
  readonly extensions?: Record<string, unknown> | null;
}

/**
 * A refusal or failure from the gateway as one typed error, so that callers branch on `code`
 * (and, for BAD_USER_INPUT, on `reason` and `field`) instead of digging through GraphQL's
 * `errors` array. Every rejection of the kit is one of these.
 */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  /** `extensions.code`, stable (docs/errors.md). */
  readonly code: GatewayErrorCode;
  /** With BAD_USER_INPUT: why, e.g. IMAGE_TOO_SMALL; with UNAUTHENTICATED: TOKEN_EXPIRED or TOKEN_INVALID. */
  readonly reason: string | null;
  /**
   * With BAD_USER_INPUT: the offending input, dot-separated. From `generate` it is named as in
   * `GenerateInput` (`image`, `background.prompt`); elsewhere as on the wire (`input.image.file`).
   */
  readonly field: string | null;
  /** With BAD_USER_INPUT: every problem found at once (the first is `reason`/`field`), so a form can mark all fields. */
  readonly problems: readonly InputProblem[];
  /** With RATE_LIMITED and QUOTA_EXCEEDED: how long to wait before sending again. */
  readonly retryAfterSeconds: number | null;
  /** With QUOTA_EXCEEDED: when the daily credit caps start afresh (midnight UTC). */
  readonly resetsAt: Date | null;
  /** The HTTP status of the answer, when there was one. */
  readonly status: number | null;

  constructor(
    message: string,
    details: {
      code: GatewayErrorCode;
      reason?: string | null;
      field?: string | null;
      problems?: readonly InputProblem[];
      retryAfterSeconds?: number | null;
      resetsAt?: Date | null;
      status?: number | null;
      cause?: unknown;
    },
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = details.code;
    this.reason = details.reason ?? null;
    this.field = details.field ?? null;
    this.problems = details.problems ?? [];
    this.retryAfterSeconds = details.retryAfterSeconds ?? null;
    this.resetsAt = details.resetsAt ?? null;
    this.status = details.status ?? null;
  }
}

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

function dateOrNull(value: string | null): Date | null {
  const date = value === null ? null : new Date(value);
  return date && !Number.isNaN(date.getTime()) ? date : null;
}

/** The first GraphQL error of an answer as a GatewayError (the gateway puts the one that matters first). */
export function errorFromGraphQL(errors: readonly GraphQLErrorLike[], status: number | null): GatewayError {
  const first = errors[0] ?? {};
  const extensions = first.extensions ?? {};
  const problems = Array.isArray(extensions.problems)
    ? (extensions.problems as unknown[]).flatMap((p) => {
        const problem = (p ?? {}) as Record<string, unknown>;
        const reason = text(problem.reason);
        const field = text(problem.field);
        return reason && field ? [{ reason, field, message: text(problem.message) ?? reason }] : [];
      })
    : [];
  return new GatewayError(text(first.message) ?? 'The gateway refused the request.', {
    code: text(extensions.code) ?? 'INTERNAL_SERVER_ERROR',
    reason: text(extensions.reason),
    field: text(extensions.field),
    problems,
    retryAfterSeconds: typeof extensions.retryAfterSeconds === 'number' ? extensions.retryAfterSeconds : null,
    resetsAt: dateOrNull(text(extensions.resetsAt)),
    status,
  });
}

/**
 * A wire path of `generateBackground`'s input as the kit's `GenerateInput` names it: `input.image.file`
 * and `input.image.url` are `image`, and the rest loses its `input.` (`background.prompt`).
 */
export function kitInputField(wire: string): string {
  const path = wire.replace(/^input\./, '');
  return /^image\.(file|url)$/.test(path) ? 'image' : path;
}

/** The same refusal with its fields (and every problem's) named as the kit's input names them. */
export function withKitFields(error: GatewayError): GatewayError {
  if (error.code !== 'BAD_USER_INPUT') return error;
  return new GatewayError(error.message, {
    code: error.code,
    reason: error.reason,
    field: error.field === null ? null : kitInputField(error.field),
    problems: error.problems.map((problem) => ({ ...problem, field: kitInputField(problem.field) })),
    retryAfterSeconds: error.retryAfterSeconds,
    status: error.status,
    cause: error,
  });
}

/** A failure to talk to the gateway at all (no answer, an answer that is not GraphQL). */
export function networkError(message: string, cause?: unknown, status: number | null = null): GatewayError {
  return new GatewayError(message, { code: 'NETWORK_ERROR', cause, status });
}
