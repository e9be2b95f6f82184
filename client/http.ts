import { errorFromGraphQL, networkError } from './errors.js';
import type { TypedDocumentString } from './generated/graphql.js';

/** A credential, or where to get one: a string, or a function (sync or async) called when one is needed. */
export type TokenSource =
  | string
  | (() => string | null | undefined | Promise<string | null | undefined>)
  | null;

/** Where the gateway is and how to reach it; what every part of the kit is created with. */
export interface GatewayConnection {
  /** The GraphQL endpoint, e.g. `https://gateway.example.com/graphql` (or `/graphql` in a page). */
  readonly url: string;
  /**
   * A session token (from `createSessionToken` on your backend, or your identity provider's JWT),
   * sent as `Authorization: Bearer` on every request and stream. A function is called for the
   * first request and again, once, whenever the gateway answers that the token expired
   * (`UNAUTHENTICATED`, reason `TOKEN_EXPIRED`); the request is then sent again with the new one.
   */
  readonly token?: TokenSource;
  /**
   * A server key (GATEWAY_API_KEYS) — only where no browser can read it — or a function read per
   * request. Kept as an alias of `token` for existing code; `token` wins when both are set.
   */
  readonly apiKey?: TokenSource;
  /** The fetch to use (tests, proxies, SSR); `globalThis.fetch` by default. */
  readonly fetch?: typeof fetch;
}

/**
 * The credential of a connection as the kit uses it: `token` functions are asked once and their
 * answer kept until the gateway says it expired (an empty answer is not kept); `apiKey` functions are read per request, as
 * they always were. Concurrent requests that all hit an expired token share one refresh.
 */
interface Credential {
  current(): Promise<string | null>;
  /** A fresh token after `used` expired, or null when this credential cannot be renewed. */
  renew(used: string | null): Promise<string | null> | null;
}

function credentialOf(connection: GatewayConnection): Credential {
  const source = connection.token ?? connection.apiKey ?? null;
  const ask = async (read: () => ReturnType<Extract<TokenSource, () => unknown>>) => (await read()) || null;
  if (typeof source !== 'function') return { current: async () => source || null, renew: () => null };
  if (connection.token === undefined || connection.token === null) {
    return { current: () => ask(source), renew: () => null };
  }
  let kept: Promise<string | null> | null = null;
  const fetchToken = () => {
    const pending = ask(source);
    kept = pending;
    // A failed lookup, or one with no token yet (a user not signed in), is tried again on the next
    // request rather than kept.
    const forget = () => {
      if (kept === pending) kept = null;
    };
    pending.then((token) => token === null && forget(), forget);
    return pending;
  };
  return {
    current: () => kept ?? fetchToken(),
    renew: async (used) => {
      const now = kept ? await kept.catch(() => null) : null;
      return now !== used && now !== null ? now : fetchToken();
    },
  };
}

/** Whether a 401 answer says the token expired (the one refusal a new token can fix). */
async function tokenExpired(response: Response): Promise<boolean> {
  if (response.status !== 401) return false;
  try {
    const body = (await response.clone().json()) as { errors?: { extensions?: { reason?: unknown } }[] };
    return body.errors?.some((error) => error?.extensions?.reason === 'TOKEN_EXPIRED') ?? false;
  } catch {
    return false;
  }
}

/**
 * The fetch every part of the kit sends with (its own requests, the graphql-sse streams and their
 * reconnects, the Apollo link and the urql exchanges): it adds `Authorization: Bearer <token>`,
 * and when the gateway answers 401 `TOKEN_EXPIRED` it gets a new token once and sends the request
 * again. `TOKEN_INVALID` and every other answer go back to the caller as they are.
 */
export function gatewayFetch(connection: GatewayConnection): typeof fetch {
  const credential = credentialOf(connection);
  const send = connection.fetch ?? ((...args: Parameters<typeof fetch>) => globalThis.fetch(...args));
  const withToken = (
    input: Parameters<typeof fetch>[0],
    init: RequestInit | undefined,
    token: string | null,
  ) => {
    const headers = new Headers(input instanceof Request ? input.headers : undefined);
    for (const [name, value] of new Headers(init?.headers)) headers.set(name, value);
    if (token) headers.set('authorization', `Bearer ${token}`);
    return send(input, { ...init, headers });
  };
  return async (input, init) => {
    const token = await credential.current();
    const response = await withToken(input, init, token);
    const renewal = (await tokenExpired(response)) ? credential.renew(token) : null;
    if (!renewal) return response;
    const fresh = await renewal;
    if (!fresh || fresh === token) return response;
    await response.body?.cancel();
    return withToken(input, init, fresh);
  };
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

/** Where `sendOperation` sends: the GraphQL endpoint and the fetch (usually `gatewayFetch`) to use. */
export interface GatewayEndpoint {
  readonly url: string;
  readonly fetch: typeof fetch;
}

/**
 * Sends one operation and returns its `data`, or throws a GatewayError: JSON for everything,
 * the GraphQL multipart request spec when a file goes along.
 */
export async function sendOperation<R, V>(
  endpoint: GatewayEndpoint,
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
      headers: { ...accept, ...UPLOAD_PREFLIGHT },
    };
  } else {
    init = {
      method: 'POST',
      body: JSON.stringify({ query, variables }),
      headers: { ...accept, 'content-type': 'application/json' },
    };
  }
  if (options.signal) init.signal = options.signal;
  let response: Response;
  try {
    response = await endpoint.fetch(endpoint.url, init);
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw networkError(`Could not reach the gateway at ${endpoint.url}.`, error);
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
