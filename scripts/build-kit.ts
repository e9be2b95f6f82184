import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * The client kit as one browser module (client/index.ts with graphql-sse inlined), which the
 * gateway serves to its demo page at /kit/gateway-client.js: the page needs no CDN and no
 * import map. `npm run build` runs this after tsc; the browser test runs it before starting.
 */
export const KIT_BUNDLE = fileURLToPath(new URL('../dist/client/browser/gateway-client.js', import.meta.url));

/** Writes the bundle to `outfile` (KIT_BUNDLE by default). */
export async function buildKitBundle(outfile: string = KIT_BUNDLE): Promise<void> {
  await build({
    entryPoints: [fileURLToPath(new URL('../client/index.ts', import.meta.url))],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'inline',
    logLevel: 'warning',
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildKitBundle();
