import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

/**
 * Builds the demo page into dist/demo/, so the built gateway serves it without src/: the client
 * kit as one browser module (client/index.ts with graphql-sse inlined), the page's script (its
 * modules in src/http/demo/ bundled, importing the kit), one style sheet, and index.html naming
 * them. Every file but index.html is named by its content hash, so src/http/demo-page.ts serves
 * it as immutable (compressed and cached for a year); `manifest.json`, written last, lists them.
 * `npm run build` and `npm start` run this after tsc; tests that open the page run it first.
 */
export const DEMO_DIR = fileURLToPath(new URL('../dist/demo/', import.meta.url));

const SOURCE = fileURLToPath(new URL('../src/http/demo/', import.meta.url));
const KIT_ENTRY = fileURLToPath(new URL('../client/index.ts', import.meta.url));
/** The path the page's modules import the kit from; the build points it at the hashed bundle. */
const KIT_IMPORT = '/kit/gateway-client.js';
/** Where the gateway serves the hashed files (src/http/demo-page.ts). */
const PREFIX = '/demo/';

/** What src/http/demo-page.ts reads: the hashed files of this build (index.html is always there). */
export interface DemoManifest {
  readonly files: string[];
}

const OPTIONS = {
  bundle: true,
  minify: true,
  write: false,
  target: 'es2022',
  platform: 'browser',
  legalComments: 'inline',
  logLevel: 'warning',
} as const;

function hashed(stem: string, extension: string, body: Uint8Array): { name: string; body: Uint8Array } {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 16);
  return { name: `${stem}.${hash}.${extension}`, body };
}

/** The only output of a `write: false` build. */
async function bundle(options: Parameters<typeof build>[0]): Promise<Uint8Array> {
  const result = await build({ ...OPTIONS, ...options });
  const [output] = result.outputFiles ?? [];
  if (!output) throw new Error('esbuild produced no output');
  return output.contents;
}

/** Writes a file under a temporary name first, so a gateway starting meanwhile never reads half of it. */
function writeAtomically(path: string, body: Uint8Array | string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, body);
  renameSync(temporary, path);
}

/** Builds the demo page into `outDir` (DEMO_DIR by default). */
export async function buildDemo(outDir: string = DEMO_DIR): Promise<void> {
  const kit = hashed('gateway-client', 'js', await bundle({ entryPoints: [KIT_ENTRY], format: 'esm' }));
  const kitPlugin: Plugin = {
    name: 'hashed-kit',
    setup(plugin) {
      plugin.onResolve({ filter: /^\/kit\/gateway-client\.js$/ }, () => ({
        path: `${PREFIX}${kit.name}`,
        external: true,
      }));
    },
  };
  const script = hashed(
    'demo',
    'js',
    await bundle({ entryPoints: [join(SOURCE, 'demo.js')], format: 'esm', plugins: [kitPlugin] }),
  );
  const html = readFileSync(join(SOURCE, 'index.html'), 'utf8');
  const sheets = [...html.matchAll(/<link rel="stylesheet" href="\/([\w-]+\.css)" \/>/g)].map((m) => m[1]);
  const style = hashed(
    'demo',
    'css',
    await bundle({
      stdin: {
        contents: sheets.map((sheet) => `@import "./${sheet}";`).join('\n'),
        resolveDir: SOURCE,
        loader: 'css',
      },
    }),
  );
  let stylesLinked = false;
  const page = html
    .replace(/\s*<link rel="stylesheet" href="\/[\w-]+\.css" \/>/g, (tag) => {
      if (stylesLinked) return '';
      stylesLinked = true;
      return tag.replace(/href="[^"]+"/, `href="${PREFIX}${style.name}"`);
    })
    .replace('<script type="module" src="/demo.js"></script>', () => {
      return `<link rel="modulepreload" href="${PREFIX}${kit.name}" />\n    <script type="module" src="${PREFIX}${script.name}"></script>`;
    });
  if (!page.includes(script.name) || !stylesLinked) {
    throw new Error(
      'src/http/demo/index.html no longer links /demo.js and its style sheets as the build expects',
    );
  }
  if (page.includes(KIT_IMPORT)) throw new Error(`index.html still names ${KIT_IMPORT}`);

  mkdirSync(outDir, { recursive: true });
  const files = [kit, script, style];
  for (const file of files) writeAtomically(join(outDir, file.name), file.body);
  writeAtomically(join(outDir, 'index.html'), page);
  const manifest: DemoManifest = { files: files.map((file) => file.name) };
  writeAtomically(join(outDir, 'manifest.json'), JSON.stringify(manifest));
  // Files of earlier builds (another hash) are not served; they go.
  const keep = new Set([...manifest.files, 'index.html', 'manifest.json']);
  for (const name of readdirSync(outDir)) {
    if (!keep.has(name) && !name.endsWith('.tmp')) rmSync(join(outDir, name), { force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildDemo();
