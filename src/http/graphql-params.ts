/**
 * The GraphQL-over-HTTP request parameters as the node handler reads them before Yoga, for the
 * live routes in front of it (src/http/live/). Anything that does not have the spec's shape is
 * null: Yoga then takes the request and answers it as the spec says.
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

/** From a JSON request body (a single operation; batches are Yoga's). */
export function paramsFromJson(text: string): GraphQLParams | null {
  try {
    return paramsFrom(JSON.parse(text));
  } catch {
    return null;
  }
}

/** From a GET request's query string. */
export function paramsFromSearch(search: URLSearchParams): GraphQLParams | null {
  try {
    const variables = search.get('variables');
    const extensions = search.get('extensions');
    return paramsFrom({
      query: search.get('query') ?? undefined,
      variables: variables ? JSON.parse(variables) : null,
      operationName: search.get('operationName'),
      extensions: extensions ? JSON.parse(extensions) : null,
    });
  } catch {
    return null;
  }
}

function paramsFrom(body: unknown): GraphQLParams | null {
  if (!isRecord(body)) return null;
  const { query, variables, operationName, extensions } = body;
  if (query !== undefined && query !== null && typeof query !== 'string') return null;
  if (variables !== undefined && variables !== null && !isRecord(variables)) return null;
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return null;
  if (extensions !== undefined && extensions !== null && !isRecord(extensions)) return null;
  const persisted = isRecord(extensions) ? extensions.persistedQuery : undefined;
  const hash = isRecord(persisted) && typeof persisted.sha256Hash === 'string' ? persisted.sha256Hash : null;
  if (typeof query !== 'string' && hash === null) return null;
  return {
    query: typeof query === 'string' ? query : null,
    variables: (variables as Record<string, unknown> | null | undefined) ?? null,
    operationName: (operationName as string | null | undefined) ?? null,
    documentHash: hash,
    extensions: (extensions as Record<string, unknown> | null | undefined) ?? null,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
