import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { ImmutableAsset } from './immutable-assets.js';

/** What `/about.json` tells the demo page (and operators): which engine answers, whether keys are needed. */
export interface AboutGateway {
  readonly engine: 'local' | 'picwish';
  readonly apiKeyRequired: boolean;
}

/** Where the built page's hashed files are served (scripts/build-kit.ts names them so). */
const DEMO_ASSET_PREFIX = '/demo/';

const CONTENT_TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

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
 * The page as `npm run build` left it in dist/demo/ (scripts/build-kit.ts): found from dist/http/
 * and from src/http/ (tests, `tsx`). Read once, at start-up; the gateway needs nothing of src/.
 * Without a build the page at `/` says how to make one, and the rest of the gateway is unaffected.
 */
function builtDemo(): { html: Buffer; assets: Map<string, ImmutableAsset> } | null {
  const candidates = [new URL('../demo/', import.meta.url), new URL('../../dist/demo/', import.meta.url)];
  for (const candidate of candidates) {
    const dir = fileURLToPath(candidate);
    if (!existsSync(`${dir}manifest.json`)) continue;
    const manifest = JSON.parse(readFileSync(`${dir}manifest.json`, 'utf8')) as { files: string[] };
    const assets = new Map<string, ImmutableAsset>();
    for (const file of manifest.files) {
      const extension = file.slice(file.lastIndexOf('.') + 1);
      const contentType = CONTENT_TYPES[extension] ?? 'application/octet-stream';
      assets.set(`${DEMO_ASSET_PREFIX}${file}`, { body: readFileSync(`${dir}${file}`), contentType });
    }
    return { html: readFileSync(`${dir}index.html`), assets };
  }
  return null;
}

const NOT_BUILT = Buffer.from(
  '<!doctype html><html lang="en"><head><meta charset="utf-8" /><title>Demo page not built</title></head>' +
    '<body><p>The demo page is not built: run <code>npm run build</code> (or <code>npm run build:kit</code>) and restart the gateway. GraphQL is at <a href="/graphql">/graphql</a>.</p></body></html>\n',
);

/** The demo page: its HTML and `/about.json` answered by `handle`, its hashed files for the immutable-asset route. */
export interface DemoRoutes {
  readonly handle: (req: IncomingMessage, res: ServerResponse, path: string) => boolean;
  /** Path → script bundle or style sheet, named by content hash (src/http/immutable-assets.ts serves them). */
  readonly assets: ReadonlyMap<string, ImmutableAsset>;
}

/**
 * Serves the demo page at `/` (always revalidated: it names the current hashed files) and
 * `/about.json`; its scripts (the client kit among them) and style sheet are `assets`, served
 * compressed and cached like GraphiQL's.
 */
export function createDemoRoutes(about: AboutGateway): DemoRoutes {
  const built = builtDemo();
  const page = built?.html ?? NOT_BUILT;
  const aboutBody = Buffer.from(JSON.stringify(about));
  const handle = (req: IncomingMessage, res: ServerResponse, path: string): boolean => {
    if (path !== '/' && path !== '/about.json') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return true;
    }
    const body = path === '/' ? page : aboutBody;
    res.writeHead(path === '/' && !built ? 503 : 200, {
      'content-type': path === '/' ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8',
      'content-length': body.length,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      ...(path === '/'
        ? { 'content-security-policy': CONTENT_SECURITY_POLICY, ...HTML_SECURITY_HEADERS }
        : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
  return { handle, assets: built?.assets ?? new Map() };
}
