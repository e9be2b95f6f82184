import type { ServerResponse } from 'node:http';

/**
 * Writes a GraphQL-shaped error answer for requests refused before GraphQL runs (auth, CSRF,
 * broken multipart, oversized bodies), so clients parse every refusal the same way.
 */
export function sendGraphQLError(
  res: ServerResponse,
  status: number,
  message: string,
  extensions: Record<string, unknown>,
): void {
  if (res.destroyed || res.writableEnded) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ errors: [{ message, extensions }] });
  res.writeHead(status, {
    'content-type': 'application/graphql-response+json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}),
  });
  res.end(body);
}
