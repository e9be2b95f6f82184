import { createHash } from 'node:crypto';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { Plugin } from 'graphql-yoga';

type GraphiQLOptions = Parameters<typeof renderGraphiQL>[0];

/**
 * The self-hosted GraphiQL page with a Content-Security-Policy that fits it exactly.
 *
 * The page (about 9 MB) carries its scripts inline, so the policy allows exactly those scripts by
 * their SHA-256 hashes instead of `'unsafe-inline'`: injected markup cannot run script, and the
 * page can only talk to the gateway itself (`connect-src 'self'`). Styles stay `'unsafe-inline'`
 * because the editor sets style attributes at run time; the editor's workers start from blob URLs.
 * The page is rendered once per set of options and kept, which also saves re-rendering 9 MB per
 * visit.
 */
export function createGraphiQLPage(): {
  render: (options: GraphiQLOptions) => string;
  /** Adds the policy to Yoga's HTML answers (the GraphiQL page). */
  plugin: Plugin;
} {
  const pages = new Map<string, { html: string; policy: string }>();
  let lastPolicy: string | null = null;
  return {
    render: (options) => {
      const cacheKey = JSON.stringify(options ?? {});
      let page = pages.get(cacheKey);
      if (!page) {
        const html = renderGraphiQL(options);
        page = { html, policy: graphiqlPolicy(html) };
        pages.set(cacheKey, page);
      }
      lastPolicy = page.policy;
      return page.html;
    },
    plugin: {
      onResponse: ({ response }) => {
        if (lastPolicy && response.headers.get('content-type')?.startsWith('text/html')) {
          response.headers.set('content-security-policy', lastPolicy);
        }
      },
    },
  };
}

/** The policy for one rendered page: its inline scripts by hash, everything else from the gateway. */
export function graphiqlPolicy(html: string): string {
  const hashes = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map(
    (match) =>
      `'sha256-${createHash('sha256')
        .update(match[1] ?? '', 'utf8')
        .digest('base64')}'`,
  );
  return [
    "default-src 'self'",
    `script-src 'self' ${hashes.join(' ')}`,
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
