import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * Bundles one of the apps in this folder for the browser (React, Apollo Client and all), as a
 * frontend's own build would, so a browser test can serve it and drive it in Chromium.
 */
export async function bundleBrowserApp(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error(`esbuild produced nothing for ${entry}`);
  return output.text;
}
