import type { ServerResponse } from 'node:http';

/**
 * Writes a plain JSON answer (probes, `not found`, the local engine's replies): the one place that
 * sets its headers, shared by the gateway's routes and the local engine.
 */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
