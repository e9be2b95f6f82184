import type { IncomingMessage } from 'node:http';
import { PREFLIGHT_HEADERS } from './upload.js';

/**
 * Content types a browser sends cross-site without a CORS preflight ("simple" requests): an HTML
 * form or a `no-cors` fetch can POST them from any page the user visits. Multipart is guarded by
 * the upload pre-handler (it must check before parsing); these are the other two.
 */
const SIMPLE_CONTENT_TYPES = new Set(['application/x-www-form-urlencoded', 'text/plain']);

/**
 * True when a request that could change state arrives as a simple cross-site request without a
 * preflight header. Yoga answers a form-encoded POST (it runs `query=` fields, mutations
 * included), so such requests are refused before Yoga sees them. GET stays open: Yoga never runs
 * mutations over GET, and the GraphQL-over-HTTP spec wants plain GET queries to work.
 */
export function isUnguardedSimpleRequest(req: IncomingMessage): boolean {
  const method = req.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return false;
  const contentType = req.headers['content-type'] ?? '';
  // JSON, by far the most common, is settled without taking the header apart.
  if (contentType.startsWith('application/json')) return false;
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (!SIMPLE_CONTENT_TYPES.has(mediaType)) return false;
  return !PREFLIGHT_HEADERS.some((name) => req.headers[name] !== undefined);
}
