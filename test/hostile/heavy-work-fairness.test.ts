import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { generateUpload, transparentPng } from '../support/fixtures.js';
import { eventually, type TestStack, uploadOperation } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import { bearer, TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';

/**
 * #27 item 4: renditions (and decodes) run in the process's image work, one at a time here
 * (IMAGE_WORK_CONCURRENCY=1), shared fairly between tenants. Alpha asks for a backlog of large
 * AVIF renditions; beta's one rendition is made next, ahead of alpha's backlog; beta's original
 * is served at once (stored files never wait for image work); and renditions whose requesters
 * went away before their turn are never made.
 */
const METRICS_TOKEN = 'metrics-token-for-heavy-work';

const it = stackTest({
  engine: { durationMs: 200 },
  env: { GATEWAY_API_KEYS: TWO_TENANT_KEYS, IMAGE_WORK_CONCURRENCY: '1', METRICS_TOKEN },
});

/** `gateway_image_work{kind="decode"}`: renders and decodes running and waiting now. */
async function imageWork(stack: TestStack): Promise<{ running: number; waiting: number }> {
  const text = await (
    await fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
  ).text();
  const read = (state: string) =>
    Number(
      /[\d.]+$/.exec(
        text
          .split('\n')
          .find((line) => line.startsWith(`gateway_image_work{kind="decode",state="${state}"}`)) ?? '',
      )?.[0] ?? NaN,
    );
  return { running: read('running'), waiting: read('waiting') };
}

type Links = { url: string; widths: string[]; small: string };

const LINKS = `query($id: ID!) { backgroundTask(id: $id) { state images {
  url small: url(format: WEBP, width: 64)
  w1: url(format: AVIF, width: 2048) w2: url(format: AVIF, width: 1600) w3: url(format: AVIF, width: 1280)
  w4: url(format: AVIF, width: 1024) w5: url(format: AVIF, width: 800) w6: url(format: AVIF, width: 640)
  w7: url(format: WEBP, width: 2048) w8: url(format: WEBP, width: 1600) w9: url(format: WEBP, width: 1280)
} } }`;

async function succeeded(stack: TestStack, key: string, png: Buffer): Promise<{ id: string; links: Links }> {
  const answer = await uploadOperation(
    stack.url,
    generateUpload('id'),
    { file: null, batch: 1 },
    { variablePath: 'variables.file', bytes: png },
    { 'apollo-require-preflight': 'true', ...bearer(key) },
  );
  const { id } = (answer.body.data as { generateBackground: { id: string } }).generateBackground;
  const image = await eventually(async () => {
    const read = await stack.gql<{ backgroundTask: { state: string; images: Record<string, string>[] } }>(
      LINKS,
      { id },
      bearer(key),
    );
    const task = read.body.data?.backgroundTask;
    return task?.state === 'SUCCEEDED' ? task.images[0] : undefined;
  }, 30_000);
  const links = image as Record<string, string>;
  return {
    id,
    links: {
      url: links.url as string,
      small: links.small as string,
      widths: Object.keys(links)
        .filter((name) => /^w\d$/.test(name))
        .map((name) => links[name] as string),
    },
  };
}

/** The renditions stored for a task (files beside its original). */
function renditionsOf(stack: TestStack, taskId: string): string[] {
  try {
    const files = readdirSync(join(stack.dataDir, 'blobs', 'results', taskId), {
      recursive: true,
    }) as string[];
    // Each blob has its content type beside it in a `.type` file.
    return files.filter((file) => file.includes('.r-') && !file.endsWith('.type'));
  } catch {
    return [];
  }
}

describe('heavy image work under one tenant’s flood', () => {
  it("makes beta's rendition right after the one under way, serves its original at once, and drops renditions nobody waits for", async ({
    stack,
  }) => {
    const alpha = await succeeded(stack, TENANTS.alpha, await transparentPng(2048, 2048));
    const beta = await succeeded(stack, TENANTS.beta, await transparentPng(400, 300));

    const finished: string[] = [];
    const leave = new AbortController();
    const flood = alpha.links.widths.map((link, index) =>
      fetch(link, { signal: index === 0 ? undefined : leave.signal })
        .then(async (response) => {
          await response.arrayBuffer();
          finished.push(`alpha-${index}`);
        })
        .catch(() => undefined),
    );
    // One of alpha's renders is under way and the rest wait for their turn.
    await eventually(async () => {
      const work = await imageWork(stack);
      return work.running === 1 && work.waiting === alpha.links.widths.length - 1 ? true : undefined;
    }, 30_000);
    const original = await fetch(beta.links.url);
    expect(original.status).toBe(200);
    await original.arrayBuffer();

    const small = await fetch(beta.links.small);
    expect(small.status).toBe(200);
    await small.arrayBuffer();
    finished.push('beta');
    // Beta went ahead of alpha's backlog: at most the render already under way finished first.
    expect(finished.indexOf('beta')).toBeLessThanOrEqual(1);

    // Alpha's client gives up on everything still waiting: those renditions are never made.
    leave.abort();
    await Promise.all(flood);
    await eventually(async () => {
      const work = await imageWork(stack);
      return work.running === 0 && work.waiting === 0 ? true : undefined;
    }, 60_000);
    const made = renditionsOf(stack, alpha.id);
    // The one that ran first, and the one that had started when alpha left (if any).
    expect(made.length).toBeGreaterThanOrEqual(1);
    expect(made.length).toBeLessThanOrEqual(2);
    const later = await fetch(beta.links.small);
    expect(later.status).toBe(200);
    await later.arrayBuffer();
    expect(renditionsOf(stack, alpha.id)).toEqual(made);
  }, 120_000);
});
