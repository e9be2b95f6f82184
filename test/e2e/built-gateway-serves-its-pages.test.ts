import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemo } from '../../scripts/build-kit.js';

/**
 * The gateway as `npm run build` leaves it, run from a folder that holds only dist/, package.json
 * and node_modules (no src/, no client/): the demo page and GraphiQL are served from dist, their
 * scripts and style sheets under content-hashed names, compressed and cached for a year.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

let folder: string;
let gateway: ChildProcess;
let url: string;

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'built-gateway-'));
  await Promise.all([
    run(
      process.execPath,
      [
        join(ROOT, 'node_modules/typescript/bin/tsc'),
        '-p',
        'tsconfig.build.json',
        '--outDir',
        join(folder, 'dist'),
      ],
      {
        cwd: ROOT,
        timeout: 240_000,
      },
    ),
    buildDemo(join(folder, 'dist', 'demo')),
  ]);
  copyFileSync(join(ROOT, 'package.json'), join(folder, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(folder, 'node_modules'), 'dir');
  gateway = spawn(process.execPath, ['dist/main.js'], {
    cwd: folder,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? folder,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'warn',
      DATA_DIR: join(folder, 'data'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  gateway.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    gateway.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /GraphiQL at (http:\/\/\S+)\/graphql/.exec(stdout);
      if (match) resolve(match[1] as string);
    });
    gateway.once('exit', (code) => reject(new Error(`the built gateway exited (${code}):\n${stderr}`)));
  });
}, 300_000);

afterAll(async () => {
  if (gateway && gateway.exitCode === null) {
    const exited = new Promise((resolve) => gateway.once('exit', resolve));
    gateway.kill('SIGTERM');
    await exited;
  }
  if (folder) rmSync(folder, { recursive: true, force: true });
});

/** The hashed files the page names: its style sheet, the kit (preloaded) and its script. */
function namedAssets(html: string): string[] {
  return [...html.matchAll(/(?:href|src)="(\/demo\/[\w-]+\.[0-9a-f]{16}\.(?:js|css))"/g)].map(
    (m) => m[1] as string,
  );
}

describe('the built gateway, with no src/ beside it', () => {
  it('serves the demo page at / (revalidated, same-origin policy) naming content-hashed assets', async () => {
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    const html = await page.text();
    expect(html).toContain('<input id="image" name="image" type="file"');
    expect(html).not.toMatch(/https?:\/\//);
    const assets = namedAssets(html);
    expect(assets.map((path) => path.replace(/\.[0-9a-f]{16}\./, '.'))).toEqual([
      '/demo/demo.css',
      '/demo/gateway-client.js',
      '/demo/demo.js',
    ]);
    expect((await fetch(`${url}/`, { method: 'POST' })).status).toBe(405);
    // The unbuilt page's paths are gone.
    expect((await fetch(`${url}/demo.js`)).status).toBe(404);
  });

  it('serves each asset compressed, cached for a year, with a strong ETag and 304s', async () => {
    const assets = namedAssets(await (await fetch(`${url}/`)).text());
    for (const path of assets) {
      const brotli = await fetch(`${url}${path}`, { headers: { 'accept-encoding': 'br' } });
      expect(brotli.status, path).toBe(200);
      expect(brotli.headers.get('content-type'), path).toMatch(
        path.endsWith('.css') ? /^text\/css/ : /^text\/javascript/,
      );
      expect(brotli.headers.get('cache-control'), path).toBe('public, max-age=31536000, immutable');
      expect(brotli.headers.get('content-encoding'), path).toBe('br');
      const etag = brotli.headers.get('etag');
      expect(etag, path).toMatch(/^"[\w-]+-br"$/);
      expect((await brotli.text()).length, path).toBeGreaterThan(0);
      const again = await fetch(`${url}${path}`, {
        headers: { 'accept-encoding': 'br', 'if-none-match': etag ?? '' },
      });
      expect(again.status, path).toBe(304);
    }
    // The page's script imports the kit by its hashed name, which the gateway serves.
    const script = assets.find((path) => path.startsWith('/demo/demo.') && path.endsWith('.js')) ?? '';
    const kit = assets.find((path) => path.startsWith('/demo/gateway-client.')) ?? '';
    expect(await (await fetch(`${url}${script}`)).text()).toContain(kit);
  });

  it('serves GraphiQL from dist as well', async () => {
    const page = await fetch(`${url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/\/graphiql\/graphiql\.[0-9a-f]{16}\.js/);
  });
});
