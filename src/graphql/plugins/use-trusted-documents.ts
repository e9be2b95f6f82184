import { readFileSync } from 'node:fs';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

/** The trusted documents, and whether they are the only operations that may run. */
export interface TrustedDocumentsOptions {
  /**
   * Document id → document text, as the codegen client preset writes `persisted-documents.json`
   * (`persistedDocuments: { hashAlgorithm: 'sha256' }`: ids `sha256:<hex>`).
   */
  readonly documents: Readonly<Record<string, string>>;
  /**
   * Only these documents run, on every transport: an operation sent as text runs only when the
   * text is exactly one of them; anything else is refused with `PERSISTED_QUERY_ONLY`.
   * @default false
   */
  readonly only?: boolean;
}

/**
 * Trusted documents (Yoga's persisted-operations plugin): a client may send
 * `extensions: { persistedQuery: { version: 1, sha256Hash } }` instead of the text (with or
 * without the `sha256:` prefix); an unknown id answers `PERSISTED_QUERY_NOT_IN_LIST`. With `only`,
 * the check sits on the parser, so it holds for `/graphql` and `/graphql/stream` alike (graphql-sse
 * parses without Yoga's params hooks).
 */
export function useTrustedDocuments(options: TrustedDocumentsOptions): Plugin {
  const byId = new Map(Object.entries(options.documents));
  const persisted = usePersistedOperations({
    getPersistedOperation: (id) => byId.get(id) ?? byId.get(`sha256:${id}`) ?? null,
    allowArbitraryOperations: true,
  }) as Plugin;
  if (!options.only) return persisted;
  const trusted = new Set(byId.values());
  const refusal = () =>
    createGraphQLError(
      'Only trusted documents run on this gateway: send the id of a known document (extensions.persistedQuery.sha256Hash).',
      { extensions: { code: 'PERSISTED_QUERY_ONLY' } },
    );
  return {
    onPluginInit: ({ addPlugin }) => {
      addPlugin(persisted);
      addPlugin({
        // On the parse result, not the parser: other plugins (armor, useMaxNesting) replace the
        // parser, and Yoga's cache may skip it, but every after-parse hook runs.
        onParse: ({ params }) => {
          const text = typeof params.source === 'string' ? params.source : params.source.body;
          if (trusted.has(text)) return;
          return ({ replaceParseResult }) => replaceParseResult(refusal());
        },
      });
    },
  };
}

/**
 * Reads a trusted-documents file (a JSON object of id → document text). A missing or malformed
 * file stops the start-up with a message naming the setting, not a request later.
 */
export function loadTrustedDocuments(file: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`PERSISTED_OPERATIONS_FILE ${file} cannot be read as JSON: ${(error as Error).message}`);
  }
  const valid =
    typeof parsed === 'object' &&
    parsed !== null &&
    !Array.isArray(parsed) &&
    Object.values(parsed).every((value) => typeof value === 'string');
  if (!valid) {
    throw new Error(`PERSISTED_OPERATIONS_FILE ${file} must be a JSON object of document id → document text`);
  }
  return parsed as Record<string, string>;
}
