import { err, ok, type Result } from '../shared/result.js';

/**
 * The GraphQL-over-HTTP request parameters as the node handler reads them before Yoga, for the
 * live routes in front of it (src/http/live/): the one parser of `query`, `variables`,
 * `operationName` and `extensions` from a GET query string or a JSON body.
 */
export interface GraphQLParams {
  /** Absent when a persisted operation names its document by hash only. */
  readonly query: string | null;
  readonly variables: Record<string, unknown> | null;
  readonly operationName: string | null;
  /** `extensions.persistedQuery.sha256Hash` (Apollo's and Yoga's persisted-operation field). */
  readonly documentHash: string | null;
  readonly extensions: Record<string, unknown> | null;
}

/**
 * Whose rules the parameters are read by:
 * - `yoga`: GraphQL over HTTP as Yoga reads it on `/graphql`; a persisted operation may name its
 *   document by hash alone, and an `operationName` that is not a string is refused. A refusal
 *   there means "not ours": Yoga takes the request and answers it as the spec says.
 * - `graphql-sse`: graphql-sse 2.6's on `/graphql/stream`; `query` is required, there is no
 *   document hash, an `operationName` that is not a string is ignored, and the refusal's message
 *   is its 400's.
 */
export type ParamsRules = 'yoga' | 'graphql-sse';

/** From a JSON request body (a single operation; batches are Yoga's). The error is the 400's message. */
export function paramsFromJson(text: string, rules: ParamsRules = 'yoga'): Result<GraphQLParams, string> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return err((error as Error).message);
  }
  if (!isRecord(body)) return err('JSON body must be an object');
  return paramsFrom(body, rules);
}

/** From a GET request's query string. The error is the 400's message. */
export function paramsFromSearch(
  search: URLSearchParams,
  rules: ParamsRules = 'yoga',
): Result<GraphQLParams, string> {
  let body: Record<string, unknown>;
  try {
    const variables = search.get('variables');
    const extensions = search.get('extensions');
    body = {
      query: search.get('query') ?? undefined,
      variables: variables ? JSON.parse(variables) : null,
      operationName: search.get('operationName'),
      extensions: extensions ? JSON.parse(extensions) : null,
    };
  } catch {
    return err('Unparsable URL');
  }
  return paramsFrom(body, rules);
}

function paramsFrom(body: Record<string, unknown>, rules: ParamsRules): Result<GraphQLParams, string> {
  const { query, variables, operationName, extensions } = body;
  const persisted = rules === 'yoga' && isRecord(extensions) ? extensions.persistedQuery : undefined;
  const hash = isRecord(persisted) && typeof persisted.sha256Hash === 'string' ? persisted.sha256Hash : null;
  // graphql-sse's order of checks, so that its answer names the first problem it would.
  if ((query === undefined || query === null) && hash === null) return err('Missing query');
  if (query !== undefined && query !== null && typeof query !== 'string') return err('Invalid query');
  if (variables !== undefined && variables !== null && !isRecord(variables)) return err('Invalid variables');
  const namedBy = typeof operationName === 'string' ? operationName : null;
  if (rules === 'yoga' && operationName !== undefined && operationName !== null && namedBy === null)
    return err('Invalid operationName');
  if (extensions !== undefined && extensions !== null && !isRecord(extensions))
    return err('Invalid extensions');
  return ok({
    query: typeof query === 'string' ? query : null,
    variables: (variables as Record<string, unknown> | null | undefined) ?? null,
    operationName: namedBy,
    documentHash: hash,
    extensions: (extensions as Record<string, unknown> | null | undefined) ?? null,
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
