import { GraphQLError } from 'graphql';
import type { GatewayError, InputProblem } from '../../core/errors.js';

/**
 * The one mapping from service errors to GraphQL errors. `extensions.code` is the stable kind;
 * BAD_USER_INPUT adds the first problem's `reason` and `field` and lists every problem, so a
 * form can mark all offending fields from one answer.
 */
export function toGraphQLError(error: GatewayError): GraphQLError {
  switch (error.kind) {
    case 'BAD_USER_INPUT': {
      const [first] = error.problems;
      return new GraphQLError(first.message, {
        extensions: {
          code: 'BAD_USER_INPUT',
          reason: first.reason,
          field: first.field.join('.'),
          problems: error.problems.map((p) => ({
            reason: p.reason,
            field: p.field.join('.'),
            message: p.message,
          })),
        },
      });
    }
    case 'RATE_LIMITED':
      return new GraphQLError(error.message, {
        extensions: { code: 'RATE_LIMITED', retryAfterSeconds: error.retryAfterSeconds },
      });
    case 'QUOTA_EXCEEDED':
      return new GraphQLError(error.message, {
        extensions: {
          code: 'QUOTA_EXCEEDED',
          resetsAt: error.resetsAt.toISOString(),
          retryAfterSeconds: error.retryAfterSeconds,
        },
      });
    case 'NOT_FOUND':
      return new GraphQLError(error.message, { extensions: { code: 'NOT_FOUND' } });
    case 'FORBIDDEN':
      return new GraphQLError(error.message, { extensions: { code: 'FORBIDDEN' } });
    case 'UNAUTHENTICATED':
      return new GraphQLError(error.message, {
        extensions: {
          code: 'UNAUTHENTICATED',
          ...(error.reason ? { reason: error.reason } : {}),
          http: { status: 401 },
        },
      });
  }
}

/** One item's refusal as `generateBackgrounds` reports it in its answer rather than as an error. */
export interface ItemProblem {
  readonly code: GatewayError['kind'];
  readonly reason: InputProblem['reason'] | null;
  readonly field: string | null;
  readonly message: string;
  readonly retryAfterSeconds: number | null;
  /** For QUOTA_EXCEEDED: when the daily cap starts afresh. */
  readonly resetsAt: Date | null;
}

/**
 * The same mapping for one item of a batch: the codes, reasons and messages `generateBackground`
 * would give, one entry per problem, with the field path rooted at the item (`inputs.3.image.file`
 * where the single mutation says `input.image.file`), so one bad item does not sink the others.
 */
export function toItemProblems(error: GatewayError, index: number): ItemProblem[] {
  switch (error.kind) {
    case 'BAD_USER_INPUT':
      return error.problems.map((p) => ({
        code: error.kind,
        reason: p.reason,
        field: (p.field[0] === 'input' ? ['inputs', String(index), ...p.field.slice(1)] : p.field).join('.'),
        message: p.message,
        retryAfterSeconds: null,
        resetsAt: null,
      }));
    case 'RATE_LIMITED':
    case 'QUOTA_EXCEEDED':
      return [
        {
          code: error.kind,
          reason: null,
          field: null,
          message: error.message,
          retryAfterSeconds: error.retryAfterSeconds,
          resetsAt: error.kind === 'QUOTA_EXCEEDED' ? error.resetsAt : null,
        },
      ];
    case 'NOT_FOUND':
    case 'FORBIDDEN':
    case 'UNAUTHENTICATED':
      return [
        {
          code: error.kind,
          reason: null,
          field: null,
          message: error.message,
          retryAfterSeconds: null,
          resetsAt: null,
        },
      ];
  }
}
