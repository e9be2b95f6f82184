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
  '/demo-input.js': ['demo-input.js', 'text/javascript; charset=utf-8'],
  '/demo-results.js': ['demo-results.js', 'text/javascript; charset=utf-8'],
  '/demo-history.js': ['demo-history.js', 'text/javascript; charset=utf-8'],
  '/demo.css': ['demo.css', 'text/css; charset=utf-8'],
  '/demo-output.css': ['demo-output.css', 'text/css; charset=utf-8'],
  '/demo-history.css': ['demo-history.css', 'text/css; charset=utf-8'],
} as const;

/** Where the page imports the client kit from (the browser bundle of client/). */
const KIT_PATH = '/kit/gateway-client.js';

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
 * The demo assets are plain files (no build step of their own; they import the kit bundle). tsc does not copy them to dist/, so they are
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
 * The browser bundle of the client kit, built by `npm run build` (scripts/build-kit.ts) into
 * dist/client/browser/: found from src/http/ and from dist/http/. Without it (a checkout that
 * was never built) the page gets a module that says so, and the rest of the gateway is unaffected.
 */
function kitBundle(): Buffer {
  const candidates = [
    new URL('../../dist/client/browser/gateway-client.js', import.meta.url),
    new URL('../client/browser/gateway-client.js', import.meta.url),
  ];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (found) return readFileSync(found);
  const message = 'The client kit is not built: run `npm run build` (or `npm run build:kit`) and restart.';
  return Buffer.from(`throw new Error(${JSON.stringify(message)});\n`);
}

/**
 * Serves the demo page at `/` with its scripts (the client kit among them), style sheet, and
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
  assets.set(KIT_PATH, { body: kitBundle(), contentType: 'text/javascript; charset=utf-8' });
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
