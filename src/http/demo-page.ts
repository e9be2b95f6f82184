import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';

/** What `/about.json` tells the demo page (and operators): which engine answers, whether keys are needed. */
export interface AboutGateway {
  readonly engine: 'local' | 'picwish';
  readonly apiKeyRequired: boolean;
}

interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
}

/** Path → file in `src/http/demo/`, and its content type. */
const ASSETS = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/demo.js': ['demo.js', 'text/javascript; charset=utf-8'],
  '/demo.css': ['demo.css', 'text/css; charset=utf-8'],
  '/demo.graphql': ['demo.graphql', 'application/graphql; charset=utf-8'],
} as const;

/** Headers of every HTML page the gateway serves (the demo page, GraphiQL): no sniffing, framing or referrer. */
export const HTML_SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
} as const;

/** The page only talks to its own origin; result images may come from PUBLIC_URL, so any http(s) image. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  'img-src * data: blob:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The demo assets are plain files (no build step). tsc does not copy them to dist/, so they are
 * read from the source tree: `./demo/` next to this module under src/, or `../../src/http/demo/`
 * from dist/http/. Read once, at start-up.
 */
function demoAssetsDir(): string {
  const candidates = [new URL('./demo/', import.meta.url), new URL('../../src/http/demo/', import.meta.url)];
  for (const candidate of candidates) {
    const dir = fileURLToPath(candidate);
    if (existsSync(`${dir}index.html`)) return dir;
  }
  throw new Error(`The demo page assets are missing (looked in ${candidates.map(String).join(', ')})`);
}

/**
 * Serves the demo page at `/` with its script, style sheet and operations document, and
 * `/about.json`. Returns a handler that answers and returns true for its paths, false otherwise.
 */
export function createDemoRoutes(
  about: AboutGateway,
): (req: IncomingMessage, res: ServerResponse, path: string) => boolean {
  const dir = demoAssetsDir();
  const assets = new Map<string, Asset>(
    Object.entries(ASSETS).map(([path, [file, contentType]]) => [
      path,
      { body: readFileSync(`${dir}${file}`), contentType },
    ]),
  );
  const aboutBody = Buffer.from(JSON.stringify(about));
  return (req, res, path) => {
    const asset =
      path === '/about.json'
        ? { body: aboutBody, contentType: 'application/json; charset=utf-8' }
        : assets.get(path);
    if (!asset) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return true;
    }
    res.writeHead(200, {
      'content-type': asset.contentType,
      'content-length': asset.body.length,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      ...(path === '/'
        ? { 'content-security-policy': CONTENT_SECURITY_POLICY, ...HTML_SECURITY_HEADERS }
        : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
    return true;
  };
}
