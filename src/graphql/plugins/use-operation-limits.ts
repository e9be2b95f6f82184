import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** How big an operation may be; each refusal names the limit it broke. */
export interface OperationLimitsOptions {
  /**
   * Deepest field nesting. Introspection is exempt, so GraphiQL's schema query works.
   * @default 8
   */
  readonly maxDepth?: number;
  /** @default 15 */
  readonly maxAliases?: number;
  /**
   * Tokens in the document, counted while parsing (a refusal is GRAPHQL_PARSE_FAILED).
   * @default 4000
   */
  readonly maxTokens?: number;
  /** @default 20 */
  readonly maxDirectives?: number;
  /**
   * graphql-armor's cost, which multiplies a list's cost by a literal `first:`: the most expensive
   * legitimate operation — `backgroundTasks(first: 100)` selecting every field — costs about
   * 27,000, so this leaves room for it and still refuses fragment-spread floods.
   * @default 50000
   */
  readonly maxCost?: number;
  /**
   * Leave out graphql-js's "Did you mean …?" hints, which tell a stranger the schema's names.
   * @default false
   */
  readonly blockFieldSuggestion?: boolean;
}

/** The limits the gateway runs with. */
export const DEFAULT_OPERATION_LIMITS = {
  maxDepth: 8,
  maxAliases: 15,
  maxTokens: 4000,
  maxDirectives: 20,
  maxCost: 50_000,
} as const;

/**
 * graphql-armor throws a refusal (depth, aliases, directives, cost) out of validation, and it
 * reaches the client without `extensions.code`; reported as a validation error instead, it gets
 * GRAPHQL_VALIDATION_FAILED like every other one (docs/errors.md).
 */
const REPORT_AS_VALIDATION = {
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null, error: GraphQLError) =>
      context?.reportError(
        new GraphQLError(error.message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }),
      ),
  ],
};

/**
 * Operation limits through graphql-armor, each refusal a validation error with a code, so a
 * hostile document costs the gateway a parse and a validation, never an execution.
 */
export function useOperationLimits(options: OperationLimitsOptions = {}): Plugin {
  const limits = { ...DEFAULT_OPERATION_LIMITS, ...options };
  return EnvelopArmorPlugin({
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true, ...REPORT_AS_VALIDATION },
    maxAliases: { n: limits.maxAliases, ...REPORT_AS_VALIDATION },
    maxTokens: { n: limits.maxTokens },
    maxDirectives: { n: limits.maxDirectives, ...REPORT_AS_VALIDATION },
    costLimit: { maxCost: limits.maxCost, ...REPORT_AS_VALIDATION },
    blockFieldSuggestion: { enabled: options.blockFieldSuggestion ?? false },
  });
}
