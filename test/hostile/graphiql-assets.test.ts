import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { describe, expect } from 'vitest';
import { preferredCoding } from '../../src/http/immutable-assets.js';
import type { TestStack } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';

/**
 * GraphiQL's page was one 9 MB HTML document, uncompressed and uncached, fetched whole on every
 * visit. Now the page is small and always revalidated, and its script, style sheet and icon are
 * content-hashed files that browsers keep for a year and that travel compressed. undici's
 * `request` is the client here because it does not decompress: the test sees the bytes sent.
 */

/** `assets`: the paths the GraphiQL page loads, read from the page once per file. */
const it = stackTest({}).extend<{ assets: string[] }>({
  assets: [
    async ({ stack }, use) => {
      const page = await fetch(`${stack.url}/graphql`, { headers: { accept: 'text/html' } });
      await use(
        [...(await page.text()).matchAll(/(?:href|src)="(\/graphiql\/[^"]+)"/g)].map((m) => m[1] as string),
      );
    },
    { scope: 'file' },
  ],
});

const get = (stack: TestStack, path: string, headers: Record<string, string> = {}) =>
  request(`${stack.url}${path}`, { headers: { 'accept-encoding': '', ...headers } });

describe('the GraphiQL page and its assets', () => {
  it('serves a small HTML page, revalidated on every visit, that loads only hashed assets from the gateway', async ({
    stack,
    assets,
  }) => {
    const page = await fetch(`${stack.url}/graphql`, { headers: { accept: 'text/html' } });
    const html = await page.text();
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(html.length).toBeLessThan(4 * 1024);
    expect(html).not.toMatch(/<script>|<style>|data:/);
    expect(html).toContain('PicWish background gateway');
    expect(assets.map((a) => a.replace(/\.[0-9a-f]{16}\./, '.<hash>.')).sort()).toEqual([
      '/graphiql/favicon.<hash>.ico',
      '/graphiql/graphiql.<hash>.css',
      '/graphiql/graphiql.<hash>.js',
    ]);
    // No inline script is left, so the policy allows scripts from the gateway alone.
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self';/);
  });

  it('sends each asset with a year-long immutable cache, a strong ETag and its content type', async ({
    stack,
    assets,
  }) => {
    for (const path of assets) {
      const answer = await get(stack, path);
      await answer.body.arrayBuffer();
      expect(answer.statusCode, path).toBe(200);
      expect(answer.headers['cache-control'], path).toBe('public, max-age=31536000, immutable');
      expect(answer.headers.etag, path).toMatch(/^"[\w-]+"$/);
      expect(answer.headers.vary, path).toBe('accept-encoding');
    }
    const script = await get(stack, assets.find((a) => a.endsWith('.js')) as string);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await script.body.arrayBuffer()).byteLength).toBeGreaterThan(1024 * 1024);
  });

  it('compresses the script with brotli or gzip as Accept-Encoding allows, to the same bytes', async ({
    stack,
    assets,
  }) => {
    const path = assets.find((a) => a.endsWith('.js')) as string;
    const plain = Buffer.from(await (await get(stack, path)).body.arrayBuffer());
    const br = await get(stack, path, { 'accept-encoding': 'gzip, deflate, br' });
    const brBytes = Buffer.from(await br.body.arrayBuffer());
    expect(br.headers['content-encoding']).toBe('br');
    expect(brBytes.length).toBeLessThan(plain.length / 3);
    expect(brotliDecompressSync(brBytes).equals(plain)).toBe(true);

    const gz = await get(stack, path, { 'accept-encoding': 'gzip, br;q=0' });
    const gzBytes = Buffer.from(await gz.body.arrayBuffer());
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gzBytes).equals(plain)).toBe(true);
    expect(Number(gz.headers['content-length'])).toBe(gzBytes.length);

    const again = await get(stack, path, { 'accept-encoding': 'br' });
    expect(Buffer.from(await again.body.arrayBuffer()).equals(brBytes)).toBe(true);
    // Each encoding is its own representation with its own tag.
    expect(new Set([br.headers.etag, gz.headers.etag, again.headers.etag]).size).toBe(2);
  });

  it('answers a matching If-None-Match with 304 and no body', async ({ stack, assets }) => {
    const path = assets.find((a) => a.endsWith('.css')) as string;
    const first = await get(stack, path, { 'accept-encoding': 'br' });
    await first.body.arrayBuffer();
    const again = await get(stack, path, {
      'accept-encoding': 'br',
      'if-none-match': String(first.headers.etag),
    });
    expect(again.statusCode).toBe(304);
    expect((await again.body.arrayBuffer()).byteLength).toBe(0);
    expect(again.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('answers 404 for a name it does not hold and 405 for a method other than GET or HEAD', async ({
    stack,
    assets,
  }) => {
    const missing = await get(stack, '/graphiql/graphiql.0000000000000000.js');
    await missing.body.arrayBuffer();
    expect(missing.statusCode).toBe(404);
    const post = await request(`${stack.url}${assets[0]}`, { method: 'POST', body: 'x' });
    await post.body.arrayBuffer();
    expect(post.statusCode).toBe(405);
  });

  it('reads Accept-Encoding q-values: a refused coding is skipped, * covers the rest', () => {
    expect(preferredCoding('gzip, deflate, br')).toBe('br');
    expect(preferredCoding('br;q=0, gzip;q=0.5')).toBe('gzip');
    expect(preferredCoding('*')).toBe('br');
    expect(preferredCoding('*;q=0, gzip')).toBe('gzip');
    expect(preferredCoding('identity')).toBeNull();
    expect(preferredCoding('')).toBeNull();
    expect(preferredCoding(undefined)).toBeNull();
  });
});
