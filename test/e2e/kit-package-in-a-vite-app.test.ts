import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { hasChromium, launchChromium, pageProblems } from '../support/browser.js';
import { stackTest } from '../support/stack-test.js';

/**
 * The client kit as a frontend team gets it: `npm pack` in client/, the tarball installed into a
 * fresh Vite + React app (no aliases, no dedupe settings), `vite build`, and the built app served
 * from its own loopback origin, generating one background with live progress against a real
 * gateway (local engine) in headless Chromium. Needs the npm registry for Vite and React; without
 * it (or without Chromium) the suite is skipped with a warning.
 */

const run = promisify(execFile);
const CLIENT_DIR = fileURLToPath(new URL('../../client/', import.meta.url));
const TARBALL_LIMIT = 200 * 1024;
/** What the app installs next to the kit; versions that install on Node 20.19+ and 22+. */
const APP_VERSIONS = {
  react: '19.3.1',
  'react-dom': '19.3.1',
  vite: '8.4.1',
  '@vitejs/plugin-react': '6.3.1',
};

async function registryReachable(): Promise<boolean> {
  try {
    await run('npm', ['ping'], { timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

const online = await registryReachable();
if (!online) console.warn('kit package test skipped: the npm registry is not reachable');
if (!hasChromium)
  console.warn('kit package test skipped: /usr/bin/chromium is missing (apt-get install -y chromium)');

const APP_SOURCE = `import { useState } from 'react';
import { createRoot } from 'react-dom/client';
import { GatewayProvider, useGenerateBackground } from 'picwish-background-gateway-client/react';
import { GatewayError } from 'picwish-background-gateway-client';

/** A transparent PNG drawn in the page: a product-like shape on nothing. */
function productPng() {
  const canvas = document.createElement('canvas');
  canvas.width = 600;
  canvas.height = 400;
  const context = canvas.getContext('2d');
  context.fillStyle = '#c0392b';
  context.beginPath();
  context.ellipse(300, 220, 140, 120, 0, 0, Math.PI * 2);
  context.fill();
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
}

function Editor() {
  const { generate, state, progress, images, error } = useGenerateBackground();
  const [seen, setSeen] = useState([]);
  const start = async () => {
    const image = await productPng();
    await generate({ image, background: { prompt: 'white marble, soft daylight' }, batchSize: 1 }).catch(() => {});
  };
  if (state && seen[seen.length - 1] !== state) setSeen([...seen, state]);
  return (
    <main>
      <button id="go" type="button" onClick={start}>Generate</button>
      <p id="state">{state ?? 'idle'}</p>
      <p id="seen">{seen.join(',')}</p>
      <p id="progress">{progress}</p>
      <p id="error">{error instanceof GatewayError ? error.code + ': ' + error.message : ''}</p>
      {images.map((image) => <img key={image.url} className="result" src={image.url} alt="" />)}
    </main>
  );
}

const gateway = new URLSearchParams(location.search).get('gateway');
createRoot(document.getElementById('root')).render(
  <GatewayProvider url={gateway}><Editor /></GatewayProvider>,
);
`;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** Serves a built app folder on loopback, as any static host would. */
async function serveFolder(root: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://app.invalid').pathname;
    const file = normalize(join(root, path === '/' ? 'index.html' : path));
    if (!file.startsWith(root)) return void res.writeHead(404).end();
    try {
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const it = stackTest({ env: { PICWISH_API_KEY: '' }, engine: { durationMs: 1_500 } });

describe.skipIf(!online || !hasChromium)('the client kit as an npm package', { timeout: 600_000 }, () => {
  let work: string;
  let tarball: string;
  let files: string[];
  let browser: Browser;
  let app: { server: Server; url: string };
  let buildOutput: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'kit-package-'));
    const packed = await run('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: CLIENT_DIR,
      maxBuffer: 16 * 1024 * 1024,
    });
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as {
      filename: string;
      files: { path: string }[];
    }[];
    if (!info) throw new Error(`npm pack printed no package: ${packed.stdout}`);
    tarball = join(work, info.filename);
    files = info.files.map((file) => file.path);

    const dir = join(work, 'app');
    await mkdir(join(dir, 'src'), { recursive: true });
    const { vite, '@vitejs/plugin-react': pluginReact, ...runtime } = APP_VERSIONS;
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({
        name: 'kit-vite-app',
        private: true,
        type: 'module',
        dependencies: { 'picwish-background-gateway-client': `file:${tarball}`, ...runtime },
        devDependencies: { vite, '@vitejs/plugin-react': pluginReact },
      }),
    );
    await writeFile(
      join(dir, 'vite.config.js'),
      "import react from '@vitejs/plugin-react';\nimport { defineConfig } from 'vite';\n\nexport default defineConfig({ plugins: [react()] });\n",
    );
    await writeFile(
      join(dir, 'index.html'),
      '<!doctype html>\n<html lang="en"><head><meta charset="utf-8" /><link rel="icon" href="data:," /><title>Kit app</title></head>\n<body><div id="root"></div><script type="module" src="/src/main.jsx"></script></body></html>\n',
    );
    await writeFile(join(dir, 'src', 'main.jsx'), APP_SOURCE);
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
      cwd: dir,
      timeout: 300_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const built = await run(join(dir, 'node_modules', '.bin', 'vite'), ['build'], {
      cwd: dir,
      timeout: 180_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    buildOutput = built.stdout + built.stderr;

    [browser, app] = await Promise.all([launchChromium(), serveFolder(join(dir, 'dist'))]);
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    if (app) await new Promise((resolve) => app.server.close(resolve));
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('packs to a tarball under 200 KB of ES modules, types and package.json only', async () => {
    const size = statSync(tarball).size;
    console.info(`client kit tarball: ${size} bytes, ${files.length} files`);
    expect(size).toBeLessThan(TARBALL_LIMIT);
    expect(files).toContain('package.json');
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('dist/react.js');
    expect(files).toContain('dist/server.js');
    for (const file of files) expect(file, file).toMatch(/^(package\.json|dist\/.+\.(js|d\.ts))$/);
  });

  it('installs into the app with no server package in its tree', async () => {
    const lock = JSON.parse(await readFile(join(work, 'app', 'package-lock.json'), 'utf8')) as {
      packages: Record<string, unknown>;
    };
    const installed = Object.keys(lock.packages).map((path) => path.replace(/^.*node_modules\//, ''));
    for (const server of ['sharp', 'pg', 'better-sqlite3', '@aws-sdk/client-s3', 'graphql-yoga', 'undici']) {
      expect(installed, server).not.toContain(server);
    }
    expect(installed).toContain('graphql-sse');
    // One React: the kit's hooks run on the app's own copy without any dedupe setting.
    expect(installed.filter((name) => name === 'react')).toHaveLength(1);
  });

  it('its types resolve in the app with library checks on (the core and server entries)', async () => {
    const dir = join(work, 'app');
    await writeFile(
      join(dir, 'types-check.ts'),
      `import { createGatewayClient, type GatewayClient, GatewayError, type Task } from 'picwish-background-gateway-client';
import { createSessionToken, type SessionToken } from 'picwish-background-gateway-client/server';

const client: GatewayClient = createGatewayClient({ url: '/graphql', token: async () => 'token' });
export async function run(file: Blob): Promise<Task['state'] | string> {
  try {
    return (await client.generate({ image: file, background: { prompt: 'marble' } })).state;
  } catch (error) {
    return error instanceof GatewayError ? error.code : 'unknown';
  }
}
export const minted: Promise<SessionToken> = createSessionToken({ url: '/graphql', serverKey: 'k', subject: 's' });
`,
    );
    await writeFile(
      join(dir, 'tsconfig.types.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'ESNext',
          moduleResolution: 'bundler',
          lib: ['ES2023', 'DOM', 'DOM.Iterable'],
          types: [],
          strict: true,
          skipLibCheck: false,
          noEmit: true,
        },
        files: ['types-check.ts'],
      }),
    );
    const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
    const checked = await run(process.execPath, [tsc, '-p', 'tsconfig.types.json'], { cwd: dir }).then(
      () => '',
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    expect(checked).toBe('');
  });

  it('builds with vite and the built app generates a background live against the gateway', async ({
    stack,
  }) => {
    console.info(`vite build:\n${buildOutput}`);
    expect(buildOutput).toMatch(/built in/);
    const page = await browser.newPage();
    const problems = pageProblems(page);
    await page.goto(`${app.url}/?gateway=${encodeURIComponent(`${stack.url}/graphql`)}`);
    await page.click('#go');
    await page.waitForFunction(
      () => {
        const image = document.querySelector<HTMLImageElement>('img.result');
        return (
          document.querySelector('#state')?.textContent === 'SUCCEEDED' &&
          image?.complete &&
          image.naturalWidth > 0
        );
      },
      null,
      { timeout: 90_000 },
    );
    expect(await page.textContent('#error')).toBe('');
    // Live progress: the page saw the task before it was final.
    expect((await page.textContent('#seen'))?.split(',')).toEqual(
      expect.arrayContaining(['PROCESSING', 'SUCCEEDED']),
    );
    expect(problems).toEqual([]);
    await page.close();
  });
});
