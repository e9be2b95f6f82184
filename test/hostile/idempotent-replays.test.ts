import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { transparentPng } from '../support/fixtures.js';
import { stackTest } from '../support/stack-test.js';

/**
 * Issue #27 item 2: a used idempotency key must not buy free work. Re-sending a used key with other
 * inputs had every URL fetched and every image inspected before the key was compared; now what can
 * be compared without the image (a single task's parameters, a batch's number of inputs) is, first,
 * and such a request is refused IDEMPOTENCY_KEY_REUSED without a fetch.
 */
const it = stackTest({ engine: { durationMs: 200 }, env: { IMAGE_URL_ALLOW_PRIVATE: 'true' } });

/** The server the image URLs point at, counting the fetches it answers. */
let images: Server;
let fetches = 0;
let base: string;
beforeAll(async () => {
  const png = await transparentPng(400, 300);
  images = createServer((_req, res) => {
    fetches += 1;
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length }).end(png);
  });
  await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
  base = `http://localhost:${(images.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => images?.close(resolve));
});

const SINGLE = `mutation($url: String!, $prompt: String!, $key: String) {
  generateBackground(input: { image: { url: $url }, background: { prompt: $prompt }, batchSize: 1, idempotencyKey: $key }) { id }
}`;
const BATCH = `mutation($inputs: [GenerateBackgroundInput!]!, $key: String) {
  generateBackgrounds(inputs: $inputs, idempotencyKey: $key) { batch { id } results { index } }
}`;

describe('a used idempotency key with other inputs', () => {
  it('refuses a single task with other parameters before fetching its image', async ({ stack }) => {
    const first = await stack.gql(SINGLE, { url: `${base}/a.png`, prompt: 'beach', key: 'single-1' });
    expect(first.body.errors).toBeUndefined();
    const before = fetches;
    const again = await stack.gql(SINGLE, { url: `${base}/b.png`, prompt: 'forest', key: 'single-1' });
    expect(again.body.errors?.[0]?.extensions).toMatchObject({ reason: 'IDEMPOTENCY_KEY_REUSED' });
    expect(fetches).toBe(before);
    // The same request again is still a replay (its image is read to compare): no new task.
    const replay = await stack.gql<{ generateBackground: { id: string } }>(SINGLE, {
      url: `${base}/a.png`,
      prompt: 'beach',
      key: 'single-1',
    });
    expect(replay.body.data?.generateBackground.id).toBe(
      (first.body.data as { generateBackground: { id: string } }).generateBackground.id,
    );
  });

  it('refuses a batch with another number of inputs before fetching any', async ({ stack }) => {
    const input = (name: string) => ({
      image: { url: `${base}/${name}.png` },
      background: { prompt: 'beach' },
      batchSize: 1,
    });
    const first = await stack.gql(BATCH, { inputs: [input('one')], key: 'batch-1' });
    expect(first.body.errors).toBeUndefined();
    const before = fetches;
    const again = await stack.gql(BATCH, {
      inputs: Array.from({ length: 50 }, (_, i) => input(`new-${i}`)),
      key: 'batch-1',
    });
    expect(again.body.errors?.[0]?.extensions).toMatchObject({ reason: 'IDEMPOTENCY_KEY_REUSED' });
    expect(fetches).toBe(before);
  });
});
