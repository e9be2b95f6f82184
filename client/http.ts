import { errorFromGraphQL, networkError } from './errors.js';
import type { TypedDocumentString } from './generated/graphql.js';

/** Where the gateway is and how to reach it; what every part of the kit is created with. */
export interface GatewayConnection {
  /** The GraphQL endpoint, e.g. `https://gateway.example.com/graphql` (or `/graphql` in a page). */
  readonly url: string;
  /** A gateway key (GATEWAY_API_KEYS), sent as `Authorization: Bearer`; or a function read per request. */
  readonly apiKey?: string | (() => string | null | undefined) | null;
  /** The fetch to use (tests, proxies, SSR); `globalThis.fetch` by default. */
  readonly fetch?: typeof fetch;
}

/** The `Authorization` header for the configured key, or none. */
export function authHeaders(connection: GatewayConnection): Record<string, string> {
  const key = typeof connection.apiKey === 'function' ? connection.apiKey() : connection.apiKey;
  return key ? { authorization: `Bearer ${key}` } : {};
}

/** The graphql-sse endpoint that belongs to a GraphQL endpoint: `<url>/stream`. */
export function streamUrl(url: string): string {
  return `${url.replace(/\/+$/, '')}/stream`;
}

/** The header every multipart upload needs, or the gateway's CSRF check answers 400 CSRF_PREVENTED. */
export const UPLOAD_PREFLIGHT = { 'apollo-require-preflight': 'true' } as const;

/** A file to send as a GraphQL multipart request, at a dotted path inside `variables`. */
export interface UploadPart {
  readonly path: string;
  readonly file: Blob;
}

/**
 * Sends one operation and returns its `data`, or throws a GatewayError: JSON for everything,
 * the GraphQL multipart request spec when a file goes along.
 */
export async function sendOperation<R, V>(
  connection: GatewayConnection,
  document: TypedDocumentString<R, V>,
  variables: V,
  options: { upload?: UploadPart; signal?: AbortSignal } = {},
): Promise<R> {
  const query = document.toString();
  const accept = { accept: 'application/graphql-response+json, application/json' };
  let init: RequestInit;
  if (options.upload) {
    const form = new FormData();
    // The spec's placeholder for the file is null; the file itself goes in part 0.
    const withoutFile = (_key: string, value: unknown) => (value instanceof Blob ? null : value);
    form.append('operations', JSON.stringify({ query, variables }, withoutFile));
    form.append('map', JSON.stringify({ 0: [`variables.${options.upload.path}`] }));
    const file = options.upload.file;
    form.append('0', file, 'name' in file && typeof file.name === 'string' ? file.name : 'foreground.png');
    init = {
      method: 'POST',
      body: form,
      headers: { ...accept, ...UPLOAD_PREFLIGHT, ...authHeaders(connection) },
    };
  } else {
    init = {
      method: 'POST',
      body: JSON.stringify({ query, variables }),
      headers: { ...accept, 'content-type': 'application/json', ...authHeaders(connection) },
    };
  }
  if (options.signal) init.signal = options.signal;
  const doFetch = connection.fetch ?? globalThis.fetch;
  let response: Response;
  try {
    response = await doFetch(connection.url, init);
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw networkError(`Could not reach the gateway at ${connection.url}.`, error);
  }
  let body: { data?: R | null; errors?: { message?: unknown; extensions?: Record<string, unknown> }[] };
  try {
    body = await response.json();
  } catch (error) {
    throw networkError(
      `The gateway answered HTTP ${response.status} without a GraphQL result.`,
      error,
      response.status,
    );
  }
  if (Array.isArray(body.errors) && body.errors.length > 0)
    throw errorFromGraphQL(body.errors, response.status);
  if (!body.data)
    throw networkError(
      `The gateway answered HTTP ${response.status} with no data.`,
      undefined,
      response.status,
    );
  return body.data;
}
