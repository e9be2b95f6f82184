import { createHash } from 'node:crypto';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { Plugin } from 'graphql-yoga';

/** What the page is rendered with: Yoga's `graphiql` options. */
export type GraphiQLOptions = NonNullable<Parameters<typeof renderGraphiQL>[0]>;

/** Where the page's assets are served; the node handler routes this prefix to `assets`. */
export const GRAPHIQL_ASSET_PREFIX = '/graphiql/';

/** One file the page loads: its bytes never change under its name (the name carries their hash). */
export interface GraphiQLAsset {
  readonly body: Buffer;
  readonly contentType: string;
}

/** The rendered page: Yoga's renderer and plugin, and the assets the node handler serves. */
export interface GraphiQLPage {
  /** Yoga's `renderGraphiQL`: the small HTML page (rendered once, with the creation options). */
  readonly render: () => string;
  /** Adds the policy and `Cache-Control: no-cache` to Yoga's HTML answers (the GraphiQL page). */
  readonly plugin: Plugin;
  /** Path (under GRAPHIQL_ASSET_PREFIX) → asset: the script bundle, the style sheet, the icon. */
  readonly assets: ReadonlyMap<string, GraphiQLAsset>;
}

/**
 * The self-hosted GraphiQL page, split for caching, with a Content-Security-Policy that fits it.
 *
 * Yoga's renderer puts everything in one 9 MB HTML document (an 8 MB script, a 0.8 MB style sheet
 * and the icon inline), which a browser downloaded whole on every visit. Here that document is cut
 * into a page of about 1 KB that is always revalidated, and files named by their content hash that
 * browsers keep for a year (served compressed by src/http/immutable-assets.ts). Rendered once at
 * creation, so every instance and every request has the same names, and nothing is re-rendered per
 * visit. Anything the cut does not recognise stays inline, its scripts allowed by SHA-256 hash in
 * the policy (never `'unsafe-inline'` for scripts): the page can only talk to the gateway itself
 * (`connect-src 'self'`). Styles stay `'unsafe-inline'` because the editor sets style attributes at
 * run time; the editor's workers start from blob URLs.
 */
export function createGraphiQLPage(options: GraphiQLOptions): GraphiQLPage {
  const assets = new Map<string, GraphiQLAsset>();
  const add = (stem: string, extension: string, body: Buffer, contentType: string) => {
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 16);
    const path = `${GRAPHIQL_ASSET_PREFIX}${stem}.${hash}.${extension}`;
    assets.set(path, { body, contentType });
    return path;
  };
  const html = withUrlParameters(renderGraphiQL(options))
    .replace(/<style>([\s\S]*?)<\/style>/g, (_tag, css: string) => {
      const path = add('graphiql', 'css', Buffer.from(css), 'text/css; charset=utf-8');
      return `<link rel="stylesheet" href="${path}" />`;
    })
    .replace(/<script>([\s\S]*?)<\/script>/g, (_tag, js: string) => {
      const path = add('graphiql', 'js', Buffer.from(js), 'text/javascript; charset=utf-8');
      return `<script src="${path}"></script>`;
    })
    .replace(
      /<link rel="icon" href="data:([\w/.+-]+);base64,([A-Za-z0-9+/=]+)"/,
      (_tag, type: string, data: string) => {
        const path = add(
          'favicon',
          type === 'image/x-icon' ? 'ico' : 'png',
          Buffer.from(data, 'base64'),
          type,
        );
        return `<link rel="icon" href="${path}"`;
      },
    );
  const policy = graphiqlPolicy(html);
  return {
    render: () => html,
    assets,
    plugin: {
      onResponse: ({ response }) => {
        if (response.headers.get('content-type')?.startsWith('text/html')) {
          response.headers.set('content-security-policy', policy);
          response.headers.set('cache-control', 'no-cache');
        }
      },
    },
  };
}

/**
 * Yoga's page reads `?query=` only; this makes it honour `?variables=` and `?operationName=` too,
 * so docs can link ready-to-run examples. A link's `query` opens on its own (without the default
 * tabs). The page's one render call gets the options through this function, in the page's script
 * (served as a hashed file, so the policy needs no inline script for it).
 */
const URL_PARAMETERS = `function gatewayUrlParameters(options) {
  var params = new URL(location.href).searchParams;
  var merged = Object.assign({}, options);
  if (params.get('query')) delete merged.defaultTabs;
  if (params.get('variables')) merged.variables = params.get('variables');
  if (params.get('operationName')) merged.operationName = params.get('operationName');
  return merged;
}
`;

function withUrlParameters(html: string): string {
  const call =
    /YogaGraphiQL\.renderYogaGraphiQL\(\s*window\.document\.querySelector\('#root'\),\s*(\{[\s\S]*?\}),\s*\);/;
  if (!call.test(html))
    throw new Error("Yoga's GraphiQL page no longer calls renderYogaGraphiQL as expected");
  return html.replace(
    call,
    (_call, options: string) =>
      `${URL_PARAMETERS}YogaGraphiQL.renderYogaGraphiQL(window.document.querySelector('#root'), gatewayUrlParameters(${options}));`,
  );
}

/** The policy for one rendered page: any inline scripts by hash, everything else from the gateway. */
function graphiqlPolicy(html: string): string {
  const hashes = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map(
    (match) =>
      ` 'sha256-${createHash('sha256')
        .update(match[1] ?? '', 'utf8')
        .digest('base64')}'`,
  );
  return [
    "default-src 'self'",
    `script-src 'self'${hashes.join('')}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "worker-src 'self' blob: data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
