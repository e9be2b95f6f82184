import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack, transparentPng } from './support/harness.js';

/**
 * The demo page and GraphiQL in a real browser (Debian's headless Chromium driven by
 * playwright-core), with every request to anything but the gateway refused: both pages must work
 * with no CDN at all.
 */

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOT = 'test-results/demo.png';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`browser tests skipped: ${CHROMIUM} is not installed (apt-get install -y chromium)`);
}

/** Lets only the gateway's own origin through; returns the list of refused URLs. */
async function onlyGateway(page: Page, gatewayUrl: string): Promise<string[]> {
  const origin = new URL(gatewayUrl).origin;
  const refused: string[] = [];
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) return route.continue();
    refused.push(url);
    return route.abort('blockedbyclient');
  });
  return refused;
}

/** Collects what the page reports as broken: uncaught errors and console errors. */
function pageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  return problems;
}

describe.skipIf(!hasChromium)('in headless Chromium', { timeout: 180_000 }, () => {
  let browser: Browser;
  let stack: TestStack;
  let fixtures: string;

  beforeAll(async () => {
    // No PICWISH_API_KEY: the gateway runs on its own built-in local engine, as `npm start` would.
    [stack, browser] = await Promise.all([
      startStack({ env: { PICWISH_API_KEY: '', LOCAL_ENGINE_DURATION_MS: '1500' } }),
      chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 }),
    ]);
    fixtures = mkdtempSync(join(tmpdir(), 'gw-browser-'));
    writeFileSync(join(fixtures, 'product.png'), await transparentPng(600, 400));
    writeFileSync(join(fixtures, 'tiny.png'), await transparentPng(64, 64));
    mkdirSync('test-results', { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    if (fixtures) rmSync(fixtures, { recursive: true, force: true });
  });

  it('demo page: uploads a PNG, follows the task live and shows both results, saying it runs on the local engine', async () => {
    const page = await browser.newPage();
    const refused = await onlyGateway(page, stack.url);
    const problems = pageProblems(page);
    try {
      await page.goto(`${stack.url}/`);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
      await expect.poll(() => page.locator('#engine-note').isVisible()).toBe(true);
      expect(await page.locator('#engine-note').textContent()).toMatch(/LOCAL engine.*not PicWish AI/);
      expect(await page.locator('#scene-type option').count()).toBeGreaterThan(1);

      await page.setInputFiles('#image', join(fixtures, 'product.png'));
      await page.fill('#prompt', 'white marble counter, soft daylight');
      await page.click('#submit');

      await page.waitForFunction(
        () => {
          const images = [...document.querySelectorAll<HTMLImageElement>('#results img.result')];
          return images.length === 2 && images.every((image) => image.complete && image.naturalWidth > 0);
        },
        null,
        { timeout: 90_000 },
      );
      expect(await page.locator('#progress').evaluate((bar: HTMLProgressElement) => bar.value)).toBe(100);
      expect(await page.locator('#status').textContent()).toMatch(/succeeded, 100%/);
      expect(await page.locator('#error').isVisible()).toBe(false);
      const links = await page
        .locator('#results a[download]')
        .evaluateAll((anchors: HTMLAnchorElement[]) => anchors.map((a) => a.href));
      expect(links).toHaveLength(2);
      for (const link of links) expect(new URL(link).origin).toBe(new URL(stack.url).origin);

      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(refused).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('demo page: a refused image is explained in words, with no results', async () => {
    const page = await browser.newPage();
    const refused = await onlyGateway(page, stack.url);
    try {
      await page.goto(`${stack.url}/`);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
      await page.setInputFiles('#image', join(fixtures, 'tiny.png'));
      await page.fill('#prompt', 'a sunny beach');
      await page.click('#submit');
      const error = page.locator('#error');
      await error.waitFor({ state: 'visible', timeout: 30_000 });
      expect(await error.textContent()).toMatch(/at least 256 px/);
      expect(await page.locator('#results img').count()).toBe(0);
      expect(await page.locator('#submit').isEnabled()).toBe(true);
      expect(refused).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('demo page: on a gateway with keys, explains that a key is needed, then works with the key entered', async () => {
    const key = 'demo-key-0123456789abcdef';
    const keyed = await startStack({ env: { GATEWAY_API_KEYS: `web:${key}` } });
    const page = await browser.newPage();
    const refused = await onlyGateway(page, keyed.url);
    try {
      await page.goto(`${keyed.url}/`);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
      expect(await page.locator('#key-section').getAttribute('open')).not.toBeNull();
      expect(await page.locator('#engine-note').isVisible()).toBe(false);
      const error = page.locator('#error');
      await error.waitFor({ state: 'visible', timeout: 30_000 });
      expect(await error.textContent()).toMatch(/Authorization: Bearer/);

      await page.fill('#api-key', key);
      await page.press('#api-key', 'Tab');
      await expect
        .poll(() => page.locator('#scene-type option').count(), { timeout: 30_000 })
        .toBeGreaterThan(1);
      expect(await error.isVisible()).toBe(false);

      await page.setInputFiles('#image', join(fixtures, 'product.png'));
      await page.selectOption('#scene-type', { index: 1 });
      await page.click('#submit');
      await page.waitForFunction(
        () => {
          const images = [...document.querySelectorAll<HTMLImageElement>('#results img.result')];
          return images.length === 2 && images.every((image) => image.complete && image.naturalWidth > 0);
        },
        null,
        { timeout: 90_000 },
      );
      expect(refused).toEqual([]);
    } finally {
      await page.close();
      await keyed.close();
    }
  });

  it('GraphiQL: runs a prefilled query with every asset served by the gateway itself', async () => {
    const page = await browser.newPage();
    const refused = await onlyGateway(page, stack.url);
    const problems = pageProblems(page);
    try {
      const query = '{ sceneTypes { id name } }';
      await page.goto(`${stack.url}/graphql?query=${encodeURIComponent(query)}`);
      const execute = page.locator('.graphiql-execute-button');
      await execute.waitFor({ state: 'visible', timeout: 60_000 });
      await execute.click();
      await expect
        .poll(() => page.locator('.graphiql-response').textContent(), { timeout: 30_000, interval: 250 })
        .toContain('"sceneTypes"');
      expect(await page.locator('.graphiql-response').textContent()).toContain('"name"');
      expect(refused).toEqual([]);
      expect(problems.filter((problem) => /Content Security Policy|Refused/i.test(problem))).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
