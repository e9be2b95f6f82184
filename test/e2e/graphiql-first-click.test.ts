import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { hasChromium, launchChromium, onlyGateway, pageProblems } from '../support/browser.js';
import type { TestStack } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';

/**
 * GraphiQL as a new user meets it: a fresh gateway on its local engine, no network but the
 * gateway's own origin, and the default tab run with one click. Links with `?query=`,
 * `?variables=` and `?operationName=` open ready to run. A loopback image URL is refused with the
 * setting that allows it.
 */

if (!hasChromium)
  console.warn('GraphiQL tests skipped: /usr/bin/chromium is missing (apt-get install -y chromium)');

const it = stackTest({ env: { PICWISH_API_KEY: '', IMAGE_URL_ALLOW_PRIVATE: 'false' } });
let browser: Browser;

beforeAll(async () => {
  if (hasChromium) browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

/** Opens GraphiQL at `search`, presses ▶ and returns the response pane's JSON. */
async function runInGraphiQL(
  stack: TestStack,
  search: string,
): Promise<{ result: Record<string, unknown>; page: Page; refused: string[]; problems: string[] }> {
  const page = await browser.newPage();
  const refused = await onlyGateway(page, stack.url);
  const problems = pageProblems(page);
  await page.goto(`${stack.url}/graphql${search}`);
  await page.waitForSelector('.graphiql-execute-button', { timeout: 60_000 });
  // The schema arrives by introspection before the editor knows the operations.
  await page.waitForSelector('.graphiql-doc-explorer-search, .graphiql-sidebar button', { timeout: 30_000 });
  await page.click('.graphiql-execute-button');
  const handle = await page.waitForFunction(
    () => {
      const text = document.querySelector('.graphiql-response')?.textContent?.replace(/\u00a0/g, ' ') ?? '';
      const start = text.indexOf('{');
      if (start < 0) return null;
      try {
        return JSON.parse(text.slice(start)) as unknown;
      } catch {
        return null;
      }
    },
    null,
    { timeout: 60_000 },
  );
  const result = (await handle.jsonValue()) as Record<string, unknown>;
  return { result, page, refused, problems };
}

describe.skipIf(!hasChromium)('GraphiQL on a fresh gateway with no network', { timeout: 180_000 }, () => {
  it('runs the default tab on the first click: data, no errors, nothing fetched from elsewhere', async ({
    stack,
  }) => {
    const { result, page, refused } = await runInGraphiQL(stack, '');
    expect(result.errors).toBeUndefined();
    const created = (result.data as { generateBackground?: { id?: string; state?: string } } | undefined)
      ?.generateBackground;
    expect(created?.id).toBeTruthy();
    expect(['QUEUED', 'PROCESSING', 'SUCCEEDED']).toContain(created?.state);
    expect(refused).toEqual([]);
    await page.close();
  });

  it('honours ?query=, ?variables= and ?operationName= in the URL', async ({ stack }) => {
    const query = `query Templates { sceneTypes { id } }
query Recent($first: Int) { backgroundTasks(first: $first) { edges { node { id } } } }`;
    const search = `?${new URLSearchParams({ query, variables: '{"first": 1}', operationName: 'Recent' })}`;
    const { result, page } = await runInGraphiQL(stack, search);
    expect(result.errors).toBeUndefined();
    const edges = (result.data as { backgroundTasks?: { edges?: unknown[] } } | undefined)?.backgroundTasks
      ?.edges;
    expect(edges).toHaveLength(1);
    await page.close();
  });
});

describe('image URLs on a local gateway', () => {
  it('a loopback URL is refused with the setting that allows it', async ({ stack }) => {
    const response = await fetch(`${stack.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `mutation { generateBackground(input: { image: { url: "http://127.0.0.1:9/product.png" }, background: { prompt: "marble" } }) { id } }`,
      }),
    });
    const body = (await response.json()) as { errors: { message: string; extensions: { reason: string } }[] };
    expect(body.errors[0]?.extensions.reason).toBe('URL_NOT_ALLOWED');
    expect(body.errors[0]?.message).toContain('IMAGE_URL_ALLOW_PRIVATE=true');
  });

  it('the sample is also served at /samples/product.png as a PNG', async ({ stack }) => {
    const response = await fetch(`${stack.url}/samples/product.png`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(
      Buffer.from(await response.arrayBuffer())
        .subarray(1, 4)
        .toString('latin1'),
    ).toBe('PNG');
  });
});
