import { request } from 'undici';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { startTestS3, type TestS3 } from '../support/s3-server.js';
import { stackTest } from '../support/stack-test.js';
import { DELETE, generateTask, settled, type TaskView } from '../support/task-ops.js';

/** Issue #13: with BLOB_STORE_URL, results live in S3 and the gateway's signed links stream them from there. */

async function fetchImage(url: string, headers: Record<string, string> = {}) {
  const response = await request(url, { headers });
  const body = Buffer.from(await response.body.arrayBuffer());
  return { status: response.statusCode, headers: response.headers, body };
}

// The gateway keeps its blobs in this S3 server, whose port is known once it runs. A gateway per
// test ('test') closes at the test's end, so the server outlives every gateway that uses it.
let s3: TestS3;
const it = stackTest(() => ({ engine: { durationMs: 300 }, env: s3.env('results-test') }), 'test');
beforeAll(async () => {
  s3 = await startTestS3();
});
afterAll(async () => {
  await s3?.stop();
});

describe('results in S3-compatible object storage', () => {
  it('serves a result from S3 with its ETag, 304 and byte ranges, and removes it with the task', async ({
    stack,
  }) => {
    const done = await settled(stack, (await generateTask(stack, { batch: 1 })).id);
    const image = done.images[0] as TaskView['images'][number];
    expect(image.url.startsWith(`${stack.url}/files/results/${done.id}/`)).toBe(true);

    const full = await fetchImage(image.url);
    expect(full.status).toBe(200);
    expect(full.body.byteLength).toBe(image.bytes);
    expect(full.headers['content-type']).toBe('image/png');
    const etag = full.headers.etag as string;
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    expect((await fetchImage(image.url, { 'if-none-match': etag })).status).toBe(304);
    const partial = await fetchImage(image.url, { range: 'bytes=10-59' });
    expect(partial.status).toBe(206);
    expect(partial.body).toEqual(full.body.subarray(10, 60));

    // Nothing went to DATA_DIR: the bucket holds the result, under the configured prefix.
    const listing = await request(
      `${s3.endpoint}/${s3.bucket}?list-type=2&prefix=results-test/results/${done.id}/`,
    );
    expect(await listing.body.text()).toMatch(
      new RegExp(`<Key>results-test/results/${done.id}/[0-9a-f]{64}\\.png</Key>`),
    );

    const deleted = await stack.gql(DELETE, { id: done.id });
    expect(deleted.body.data).toEqual({ deleteBackgroundTask: true });
    expect((await fetchImage(image.url)).status).toBe(404);
  });

  it('reports the blob store on /readyz', async ({ stack }) => {
    const ready = await request(`${stack.url}/readyz`);
    expect(ready.statusCode).toBe(200);
    expect(await ready.body.json()).toMatchObject({ checks: { blobStore: { kind: 's3', ok: true } } });
  });
});
