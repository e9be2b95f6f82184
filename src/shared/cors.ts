/**
 * The gateway's one CORS rule, for Yoga's answers and the live routes' streams alike. Browsers send
 * the gateway key in the `Authorization` header, which CORS allows without credentials mode, so
 * by default any origin may call but none is granted credentials (cookies): reflecting every
 * origin *with* credentials, Yoga's default, would let any site ride a browser's cookies or TLS
 * client certificate to the gateway. With `CORS_ORIGINS` only the listed origins are answered, and
 * they are granted credentials.
 */
export interface CorsDecision {
  /** The `Access-Control-Allow-Origin` value, or null to send no CORS headers at all. */
  readonly origin: string | null;
  readonly credentials: boolean;
}

/** What to answer a request from `origin` (absent: a same-origin or non-browser request). */
export function decideCors(origin: string | undefined, allowList: readonly string[] | null): CorsDecision {
  if (origin === undefined) return { origin: null, credentials: false };
  if (allowList === null) return { origin, credentials: false };
  return allowList.includes(origin) ? { origin, credentials: true } : { origin: null, credentials: false };
}

/** The decision as response headers, for answers written outside Yoga. */
export function corsHeaders(
  origin: string | undefined,
  allowList: readonly string[] | null,
): Record<string, string> {
  const decision = decideCors(origin, allowList);
  if (decision.origin === null) return {};
  return {
    'Access-Control-Allow-Origin': decision.origin,
    Vary: 'Origin',
    ...(decision.credentials ? { 'Access-Control-Allow-Credentials': 'true' } : {}),
  };
}
