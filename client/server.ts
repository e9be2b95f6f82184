import { TypedDocumentString } from './generated/graphql.js';
import { gatewayFetch, sendOperation } from './http.js';

export { GatewayError, type GatewayErrorCode } from './errors.js';

/** What `createSessionToken` needs: where the gateway is, your server key, and the end user. */
export interface CreateSessionTokenOptions {
  /** The GraphQL endpoint, e.g. `https://gateway.example.com/graphql`. */
  readonly url: string;
  /** A server key (GATEWAY_API_KEYS): it stays on your backend and never goes to a browser. */
  readonly serverKey: string;
  /** Your id of the signed-in end user (1–128 printable characters); their tasks are theirs alone. */
  readonly subject: string;
  /** How long the token is good for, 60–86400. @default 900 (the gateway's default) */
  readonly ttlSeconds?: number;
  /** The fetch to use; `globalThis.fetch` by default. */
  readonly fetch?: typeof fetch;
  readonly signal?: AbortSignal;
}

/** A session token for one end user, to hand to the browser (`createGatewayClient({ url, token })`). */
export interface SessionToken {
  readonly token: string;
  readonly subject: string;
  /** ISO date-time after which the gateway answers `TOKEN_EXPIRED`. */
  readonly expiresAt: string;
}

interface CreateSessionTokenResult {
  createSessionToken: SessionToken;
}

interface CreateSessionTokenVariables {
  input: { subject: string; ttlSeconds?: number };
}

const CREATE_SESSION_TOKEN = new TypedDocumentString<CreateSessionTokenResult, CreateSessionTokenVariables>(
  'mutation KitCreateSessionToken($input: CreateSessionTokenInput!) { createSessionToken(input: $input) { token subject expiresAt } }',
);

/**
 * For Node backends (a route handler, an Express endpoint): mints a session token for the signed-in
 * user with your server key, so the browser holds a short-lived credential scoped to that user
 * instead of the key. Rejects with a GatewayError (e.g. BAD_USER_INPUT for a bad subject or ttl,
 * UNAUTHENTICATED for a wrong key).
 */
export async function createSessionToken(options: CreateSessionTokenOptions): Promise<SessionToken> {
  const { url, serverKey } = options;
  const { createSessionToken: minted } = await sendOperation(
    {
      url,
      fetch: gatewayFetch({ url, apiKey: serverKey, ...(options.fetch ? { fetch: options.fetch } : {}) }),
    },
    CREATE_SESSION_TOKEN,
    {
      input: {
        subject: options.subject,
        ...(options.ttlSeconds === undefined ? {} : { ttlSeconds: options.ttlSeconds }),
      },
    },
    options.signal ? { signal: options.signal } : {},
  );
  return minted;
}
