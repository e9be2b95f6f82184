import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { createSessionToken } from '../../client/server.js';
import { hasChromium, launchChromium, pageProblems } from '../support/browser.js';
import { transparentPng } from '../support/fixtures.js';
import { stackTest } from '../support/stack-test.js';
import { TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';

/**
 * A frontend team's app as it ships (#23): its own backend (here a small loopback server) holds
 * the server key and mints a session token for the signed-in user; the page, on the backend's
 * origin, asks for that token and generates a background on the gateway (another origin) with
 * live progress. Nothing the browser receives holds the server key.
 */

const KIT_ENTRY = fileURLToPath(new URL('../../client/index.ts', import.meta.url));

const PAGE_SCRIPT = `
import { createGatewayClient } from './kit.js';
const out = document.querySelector('#out');
const gateway = createGatewayClient({
  url: window.GATEWAY_URL,
  token: async () => (await (await fetch('/api/gateway-token', { method: 'POST' })).json()).token,
});
const product = await (await fetch('/product.png')).blob();
const task = await gateway.generate(
  { image: product, background: { prompt: 'white marble, soft daylight' } },
  { onUpdate: (t) => { out.dataset.updates = String(Number(out.dataset.updates ?? 0) + 1); out.dataset.progress = String(t.progress); } },
);
const viewer = await (await fetch(window.GATEWAY_URL, {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: 'Bearer ' + (await (await fetch('/api/gateway-token', { method: 'POST' })).json()).token },
  body: JSON.stringify({ query: '{ viewer { scope subject } }' }),
})).json();
out.dataset.scope = viewer.data.viewer.scope + ':' + viewer.data.viewer.subject;
out.dataset.state = task.state;
out.dataset.images = String(task.images.length);
`;

let browser: Browser | undefined;
const received: string[] = [];

/** The team's backend, on its own loopback origin: it knows the gateway and holds its server key. */
async function startBackend(gatewayUrl: string): Promise<{ server: Server; url: string }> {
  const kit = (
    await build({ entryPoints: [KIT_ENTRY], bundle: true, format: 'esm', platform: 'browser', write: false })
  ).outputFiles[0]?.text as string;
  const png = await transparentPng(400, 300);
  const server = createServer((req, res) => {
    if (req.url === '/api/gateway-token' && req.method === 'POST') {
      // The team's backend: the server key lives here, the browser gets a token for its user.
      createSessionToken({
        url: `${gatewayUrl}/graphql`,
        serverKey: TENANTS.alpha,
        subject: 'shopper-1',
      }).then(
        (minted) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(minted)),
        () => res.writeHead(502).end(),
      );
      return;
    }
    if (req.url === '/product.png') return void res.writeHead(200, { 'content-type': 'image/png' }).end(png);
    if (req.url === '/kit.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(kit);
    if (req.url === '/app.js')
      return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(PAGE_SCRIPT);
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end(
        `<!doctype html><title>shop</title><script>window.GATEWAY_URL = ${JSON.stringify(`${gatewayUrl}/graphql`)};</script><div id="out"></div><script type="module" src="/app.js"></script>`,
      );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const it = stackTest({ engine: { durationMs: 1_500 }, env: { GATEWAY_API_KEYS: TWO_TENANT_KEYS } }).extend<{
  backendUrl: string;
}>({
  backendUrl: [
    async ({ stack }, use) => {
      const backend = await startBackend(stack.url);
      try {
        await use(backend.url);
      } finally {
        await new Promise((resolve) => backend.server.close(resolve));
      }
    },
    { scope: 'file' },
  ],
});

beforeAll(async () => {
  if (hasChromium) browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

describe.skipIf(!hasChromium)('a page holding only a session token', { timeout: 120_000 }, () => {
  it('gets a token from its backend and generates a background with live progress, never seeing a server key', async ({
    backendUrl,
  }) => {
    const page = await (browser as Browser).newPage();
    const problems = pageProblems(page);
    page.on('response', async (response) => {
      try {
        received.push(await response.text());
      } catch {
        // A stream still open when the page closes has no text to read.
      }
    });
    await page.goto(backendUrl);
    await page.waitForSelector('#out[data-state]', { state: 'attached', timeout: 90_000 });
    const out = page.locator('#out');
    expect(await out.getAttribute('data-state')).toBe('SUCCEEDED');
    expect(Number(await out.getAttribute('data-images'))).toBeGreaterThan(0);
    expect(Number(await out.getAttribute('data-updates'))).toBeGreaterThan(1);
    expect(await out.getAttribute('data-progress')).toBe('100');
    expect(await out.getAttribute('data-scope')).toBe('SESSION:shopper-1');
    expect(problems).toEqual([]);
    await page.close();
    expect(received.length).toBeGreaterThan(3);
    expect(received.filter((text) => text.includes(TENANTS.alpha))).toEqual([]);
  });
});
