import { mkdirSync, readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { buildDemo } from '../../scripts/build-kit.js';
import { sendBatch } from '../support/batch-ops.js';
import {
  dropFile,
  hasChromium,
  launchChromium,
  onlyGateway,
  pageProblems,
  seriousAccessibilityViolations,
} from '../support/browser.js';
import { bundleBrowserApp } from '../support/browser-apps/bundle.js';
import { generateUpload, productPhotoJpeg, transparentPng } from '../support/fixtures.js';
import { uploadOperation } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';

/**
 * The demo page (built on the client kit) and GraphiQL in a real browser (Debian's headless
 * Chromium driven by playwright-core), with every request to anything but the gateway refused:
 * both pages must work with no CDN at all. Screenshots go to test-results/.
 */

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
if (!hasChromium)
  console.warn('browser tests skipped: /usr/bin/chromium is not installed (apt-get install -y chromium)');

// No PICWISH_API_KEY: the gateway runs on its own built-in local engine, as `npm start` would.
const it = stackTest({ env: { PICWISH_API_KEY: '', LOCAL_ENGINE_DURATION_MS: '3000' } });
// A gateway with keys, for the one test about them.
const DEMO_KEY = 'demo-key-0123456789abcdef';
const itKeyed = stackTest({ env: { GATEWAY_API_KEYS: `web:${DEMO_KEY}` } }, 'test');

describe.skipIf(!hasChromium)('in headless Chromium', { timeout: 180_000 }, () => {
  let browser: Browser;
  let product: Buffer;
  let tiny: Buffer;
  let photo: Buffer;
  let opaque: Buffer;

  beforeAll(async () => {
    // The page imports the kit's browser bundle, which `npm run build` writes; build it first.
    await buildDemo();
    browser = await launchChromium();
    [product, tiny, photo, opaque] = await Promise.all([
      transparentPng(600, 400),
      transparentPng(64, 64),
      productPhotoJpeg(),
      sharp({ create: { width: 600, height: 400, channels: 3, background: '#ffffff' } })
        .png()
        .toBuffer(),
    ]);
    mkdirSync('test-results', { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  async function openDemo(
    gatewayUrl: string,
    viewport = DESKTOP,
  ): Promise<{ context: BrowserContext; page: Page; refused: string[]; problems: string[] }> {
    const context = await browser.newContext({ viewport, acceptDownloads: true });
    const page = await context.newPage();
    const refused = await onlyGateway(page, gatewayUrl);
    const problems = pageProblems(page);
    await page.goto(`${gatewayUrl}/`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    return { context, page, refused, problems };
  }

  async function bothResultsLoaded(page: Page): Promise<void> {
    await page.waitForFunction(
      () => {
        const images = [...document.querySelectorAll<HTMLImageElement>('#results img.result')];
        return images.length === 2 && images.every((image) => image.complete && image.naturalWidth > 0);
      },
      null,
      { timeout: 90_000 },
    );
  }

  it('demo page: a dropped PNG is followed live to two results with sliders, downloads and a history entry; accessible at desktop and phone widths', async ({
    stack,
  }) => {
    const { context, page, refused, problems } = await openDemo(stack.url);
    try {
      expect(await page.locator('#engine-note').textContent()).toMatch(/LOCAL engine.*not PicWish AI/);
      expect(await page.locator('input[name="scene"]').count()).toBeGreaterThan(1);

      await dropFile(page, '#drop-zone', product, 'product.png');
      await expect.poll(() => page.locator('#preview').isVisible()).toBe(true);
      await page.fill('#prompt', 'white marble counter, soft daylight');
      await page.click('#submit');

      // Live progress: the stage list moves past the upload while the task runs.
      await page.waitForFunction(
        () => ['QUEUED', 'PROCESSING'].includes(document.getElementById('stages')?.dataset.state ?? ''),
        null,
        { timeout: 30_000 },
      );
      expect(await page.locator('#cancel').isVisible()).toBe(true);
      await page.screenshot({ path: 'test-results/demo-progress.png' });
      await bothResultsLoaded(page);
      expect(await page.locator('#progress').evaluate((bar: HTMLProgressElement) => bar.value)).toBe(100);
      expect(await page.locator('#status').textContent()).toMatch(/Succeeded, 100%/);
      expect(await page.locator('#error').isVisible()).toBe(false);

      // The before/after slider answers the keyboard.
      const slider = page.locator('.compare-range').first();
      expect(await page.locator('.compare-range').count()).toBe(2);
      await slider.focus();
      await page.keyboard.press('Home');
      expect(await slider.inputValue()).toBe('0');
      expect(
        await page
          .locator('.compare')
          .first()
          .evaluate((el) => getComputedStyle(el).getPropertyValue('--split')),
      ).toBe('0%');

      // Download: the browser saves a PNG from the gateway's own origin.
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('.download >> nth=0')]);
      expect(download.suggestedFilename()).toBe('background-1.png');
      expect(new URL(download.url()).origin).toBe(new URL(stack.url).origin);
      const saved = readFileSync((await download.path())!);
      expect(saved.subarray(1, 4).toString()).toBe('PNG');

      // The task shows up in the history, with a thumbnail.
      const entry = page.locator('#history li').first();
      await expect.poll(() => entry.locator('.badge').textContent(), { timeout: 30_000 }).toBe('Done');
      await expect
        .poll(() => entry.locator('img').evaluate((img: HTMLImageElement) => img.naturalWidth))
        .toBeGreaterThan(0);

      await page.locator('.compare-range').first().fill('50');
      // Full-page shots from the top: the results panel is sticky on wide screens.
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: 'test-results/demo-desktop.png', fullPage: true });
      expect(await seriousAccessibilityViolations(page)).toEqual([]);

      await page.setViewportSize(PHONE);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
        PHONE.width,
      );
      await page.screenshot({ path: 'test-results/demo-phone.png', fullPage: true });
      expect(await seriousAccessibilityViolations(page)).toEqual([]);

      expect(refused).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('demo page: Cancel stops a running task and says so', async ({ stack }) => {
    const { context, page } = await openDemo(stack.url);
    try {
      await page.setInputFiles('#image', { name: 'product.png', mimeType: 'image/png', buffer: product });
      await page.locator('input[name="scene"]').nth(1).check({ force: true });
      await page.click('#submit');
      await page
        .locator('#status')
        .filter({ hasText: /Queued|Processing/ })
        .waitFor({ timeout: 30_000 });
      await page.click('#cancel');
      await page.locator('#status').filter({ hasText: 'Cancelled.' }).waitFor({ timeout: 30_000 });
      expect(await page.locator('#results img').count()).toBe(0);
      expect(await page.locator('#submit').isEnabled()).toBe(true);
    } finally {
      await context.close();
    }
  });

  it('demo page: a refused image is explained in words and marked, with no results', async ({ stack }) => {
    const { context, page, refused } = await openDemo(stack.url);
    try {
      await page.setInputFiles('#image', { name: 'tiny.png', mimeType: 'image/png', buffer: tiny });
      await page.fill('#prompt', 'a sunny beach');
      await page.click('#submit');
      const error = page.locator('#error');
      await error.waitFor({ state: 'visible', timeout: 30_000 });
      expect(await error.textContent()).toMatch(/at least 256 px.*IMAGE_TOO_SMALL/);
      expect(await page.locator('#image').getAttribute('aria-invalid')).toBe('true');
      expect(await page.locator('#results img').count()).toBe(0);
      expect(await page.locator('#submit').isEnabled()).toBe(true);
      expect(refused).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('demo page: checks type, size, pixels and prompt length before uploading (every problem at once), and shows the gateway’s fix for an opaque PNG', async ({
    stack,
  }) => {
    const { context, page, refused } = await openDemo(stack.url);
    const uploads: string[] = [];
    page.on('request', (request) => {
      if ((request.headers()['content-type'] ?? '').startsWith('multipart/')) uploads.push(request.url());
    });
    try {
      await page.setInputFiles('#image', { name: 'tiny.png', mimeType: 'image/png', buffer: tiny });
      await page.fill('#prompt', 'p'.repeat(1100));
      // Nothing cuts a long prompt short behind the person's back.
      expect(await page.inputValue('#prompt')).toHaveLength(1100);
      await page.click('#submit');
      const error = page.locator('#error');
      await error.waitFor({ state: 'visible', timeout: 30_000 });
      const both = await error.textContent();
      expect(both).toMatch(/at least 256 px.*IMAGE_TOO_SMALL/);
      expect(both).toMatch(/1100 characters.*at most 1024.*PROMPT_TOO_LONG/);
      expect(await page.locator('#image').getAttribute('aria-invalid')).toBe('true');
      expect(await page.locator('#prompt').getAttribute('aria-invalid')).toBe('true');
      expect(uploads).toEqual([]);

      // An opaque PNG passes the page's checks; the gateway's refusal says what to do.
      await page.setInputFiles('#image', { name: 'opaque.png', mimeType: 'image/png', buffer: opaque });
      await page.fill('#prompt', 'a sunny beach');
      await page.click('#submit');
      await expect.poll(() => error.textContent(), { timeout: 30_000 }).toMatch(/NOT_TRANSPARENT/);
      const fix = await error.textContent();
      expect(fix).toContain('removeBackground: true');
      expect(fix).toContain('JPEG, PNG or WebP');
      expect(fix).toContain('tick “Remove the background first”');
      expect(uploads).toHaveLength(1);
      expect(refused).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('demo page: a JPEG photo is taken with “Remove the background first” through the cutout to results', async ({
    stack,
  }) => {
    const { context, page, refused, problems } = await openDemo(stack.url);
    try {
      await page.setInputFiles('#image', { name: 'photo.jpg', mimeType: 'image/jpeg', buffer: photo });
      // A JPEG cannot be transparent: the page turns background removal on by itself.
      expect(await page.locator('#remove-background').isChecked()).toBe(true);
      await page.fill('#prompt', 'oak table, morning light');
      await page.click('#submit');
      await bothResultsLoaded(page);
      expect(await page.locator('#status').textContent()).toMatch(/Succeeded, 100%/);
      const cutoutStep = page.locator('#stages [data-stage="CUTOUT"]');
      expect(await cutoutStep.isVisible()).toBe(true);
      expect(await cutoutStep.getAttribute('class')).toContain('done');
      expect(await page.locator('.download', { hasText: 'WebP' }).count()).toBe(2);
      expect(refused).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  itKeyed(
    'demo page: on a gateway with keys, explains that a token is needed, then works with a session token entered',
    async ({ stack: keyed }) => {
      // The page gets what a browser should hold: a session token minted with the server key.
      const minted = await keyed.gql<{ createSessionToken: { token: string } }>(
        'mutation { createSessionToken(input: { subject: "demo-user" }) { token } }',
        {},
        { authorization: `Bearer ${DEMO_KEY}` },
      );
      const token = minted.body.data?.createSessionToken.token as string;
      const { context, page, refused } = await openDemo(keyed.url);
      try {
        expect(await page.locator('#key-section').getAttribute('open')).not.toBeNull();
        expect(await page.locator('#engine-note').isVisible()).toBe(false);
        const error = page.locator('#error');
        await error.waitFor({ state: 'visible', timeout: 30_000 });
        expect(await error.textContent()).toMatch(/Authorization: Bearer/);

        await page.fill('#api-key', token);
        await page.press('#api-key', 'Tab');
        await expect
          .poll(() => page.locator('input[name="scene"]').count(), { timeout: 30_000 })
          .toBeGreaterThan(1);
        expect(await error.isVisible()).toBe(false);

        await page.setInputFiles('#image', { name: 'product.png', mimeType: 'image/png', buffer: product });
        await page.locator('input[name="scene"]').nth(1).check({ force: true });
        await page.click('#submit');
        await bothResultsLoaded(page);
        expect(refused).toEqual([]);
      } finally {
        await context.close();
      }
    },
  );

  it("React: Apollo Client's useSubscription over its plain HttpLink follows a task and a batch to their end", async ({
    stack,
  }) => {
    const app = await bundleBrowserApp('apollo-follow.ts');
    const task = await uploadOperation(
      stack.url,
      generateUpload('id'),
      { file: null, prompt: 'a sunny beach' },
      { variablePath: 'variables.file', bytes: product },
    );
    const taskId = (task.body.data as { generateBackground: { id: string } }).generateBackground.id;
    const batch = await sendBatch(stack, [{ file: product }, { file: product }]);
    const batchId = batch.data?.generateBackgrounds.batch.id as string;
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    try {
      const refused = await onlyGateway(page, stack.url);
      const problems = pageProblems(page);
      // The app is served from the gateway's origin (as a frontend behind the same host would be);
      // its requests to /graphql go to the real gateway.
      await page.route(`${stack.url}/__app/**`, (route) =>
        route.fulfill(
          route.request().url().endsWith('.js')
            ? { contentType: 'text/javascript', body: app }
            : {
                contentType: 'text/html',
                body: '<!doctype html><title>app</title><div id="root"></div><script type="module" src="/__app/app.js"></script>',
              },
        ),
      );
      await page.goto(`${stack.url}/__app/index.html?task=${taskId}&batch=${batchId}`);
      await page.waitForSelector('body[data-task-done="true"][data-batch-done="true"]', {
        state: 'attached',
        timeout: 120_000,
      });
      const seen = await page.evaluate(() => ({
        task: document.body.dataset.task,
        batch: document.body.dataset.batch,
      }));
      expect(seen.task).not.toMatch(/error/);
      expect(seen.task?.split(' ').at(-1)).toBe('SUCCEEDED:100');
      expect(seen.task?.split(' ')[0]).not.toBe('SUCCEEDED:100');
      expect(seen.batch?.split(' ').at(-1)).toBe('succeeded:2');
      expect(refused).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('GraphiQL: runs a prefilled query with every asset served by the gateway itself', async ({ stack }) => {
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
