import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** Options of {@link useNoSuggestions}. */
export interface NoSuggestionsOptions {
  /**
   * Whether to strip suggestions; the gateway turns it on in production.
   * @default true
   */
  readonly enabled?: boolean;
}

/**
 * Strips graphql-js's "Did you mean …?" from error messages, which in production would spell out
 * the schema to a client guessing names. graphql-armor's block-field-suggestion covers field
 * names only; enum values leak the same way, in literals (a validation error) and in variables
 * (a coercion error from execution), so both are cut here.
 */
export function useNoSuggestions(options: NoSuggestionsOptions = {}): Plugin {
  if (options.enabled === false) return {};
  return {
    onValidate:
      () =>
      ({ valid, result, setResult }) => {
        if (!valid && result.some(hasSuggestion)) setResult(result.map(withoutSuggestion));
      },
    onExecute: () => ({
      onExecuteDone: ({ result, setResult }) => {
        if (!('errors' in result) || !result.errors?.some(hasSuggestion)) return;
        setResult({ ...result, errors: result.errors.map(withoutSuggestion) });
      },
    }),
  };
}

const SUGGESTION = /\s*Did you mean [^?]*\?/g;

function hasSuggestion(error: Error): boolean {
  return error.message.includes('Did you mean');
}

function withoutSuggestion<E extends Error>(error: E): E | GraphQLError {
  if (!hasSuggestion(error) || !(error instanceof GraphQLError)) return error;
  return new GraphQLError(error.message.replace(SUGGESTION, ''), {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: withoutSuggestedProblems(error.extensions),
  });
}

/** `extensions.problems` (useVariableErrors) repeats each message: those lose theirs too. */
function withoutSuggestedProblems(extensions: GraphQLError['extensions']): GraphQLError['extensions'] {
  const problems = extensions.problems;
  if (!Array.isArray(problems)) return extensions;
  return {
    ...extensions,
    problems: problems.map((problem: unknown) =>
      typeof problem === 'object' &&
      problem !== null &&
      typeof (problem as { message?: unknown }).message === 'string'
        ? { ...problem, message: (problem as { message: string }).message.replace(SUGGESTION, '') }
        : problem,
    ),
  };
}
