import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** True for names and addresses that only reach this machine. */
export function isLoopbackHostname(hostname: string): boolean {
  const bare = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1';
  return false;
}

/**
 * The guard of anonymous local mode (no gateway keys, bound to loopback). Nothing authenticates
 * a request there, so a web page the user happens to visit must not be able to drive the gateway
 * and spend the PicWish key:
 *
 * - a request with an `Origin` from another site is refused (Yoga's default CORS would otherwise
 *   let any page through a preflight);
 * - a request whose `Host` is not a loopback name (or the host of PUBLIC_URL) is refused, which
 *   stops DNS rebinding: a page on a name that re-resolves to 127.0.0.1 is same-origin to itself.
 *
 * Returns why a request is refused, or null to let it through.
 */
export function createLocalModeGuard(publicUrl: string | null): (req: IncomingMessage) => string | null {
  const publicHost = publicUrl ? new URL(publicUrl).hostname.toLowerCase() : null;
  const allowed = (hostname: string) => isLoopbackHostname(hostname) || hostname.toLowerCase() === publicHost;
  // Every request carries the same few Host (and Origin) values: their verdicts are remembered, so
  // a request costs a lookup instead of a URL parse. Bounded, as the values come from clients.
  const verdicts = new Map<string, boolean>();
  const allowedUrl = (url: string): boolean => {
    let verdict = verdicts.get(url);
    if (verdict === undefined) {
      verdict = allowed(hostnameOf(url) ?? '');
      if (verdicts.size >= MAX_REMEMBERED_VERDICTS) verdicts.clear();
      verdicts.set(url, verdict);
    }
    return verdict;
  };
  return (req) => {
    const host = req.headers.host;
    if (host !== undefined && !allowedUrl(`http://${host}`)) {
      return `This gateway runs without keys for local use only; it does not answer requests addressed to "${host}". Set PUBLIC_URL to the address clients use, or set GATEWAY_API_KEYS.`;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedUrl(origin)) {
      return 'This gateway runs without keys for local use only; it does not answer web pages from other sites. Set GATEWAY_API_KEYS to serve other origins.';
    }
    return null;
  };
}

const MAX_REMEMBERED_VERDICTS = 256;

function hostnameOf(url: string): string | null {
  try {
    return new URL(url).hostname;
  } catch {
    return null;
  }
}
