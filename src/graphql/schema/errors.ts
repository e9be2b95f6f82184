import { GraphQLError } from 'graphql';
import type { GatewayError } from '../../core/errors.js';

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
    case 'NOT_FOUND':
      return new GraphQLError(error.message, { extensions: { code: 'NOT_FOUND' } });
    case 'UNAUTHENTICATED':
      return new GraphQLError(error.message, {
        extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
      });
  }
}
