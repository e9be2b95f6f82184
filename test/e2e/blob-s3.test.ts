import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client, S3BlobStore } from '../../src/adapters/s3/s3-blob-store.js';
import { startTestS3, type TestS3 } from '../support/s3-server.js';

let s3: TestS3;
let blobs: S3BlobStore;
beforeAll(async () => {
  s3 = await startTestS3();
  const client = createS3Client(
    { endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true },
    s3.credentials,
  );
  blobs = new S3BlobStore(client, { bucket: s3.bucket, prefix: 'gw/test' });
});
afterAll(async () => {
  blobs?.close();
  await s3?.stop();
});

function keyFor(taskId: string, data: Uint8Array): string {
  return `results/${taskId}/${createHash('sha256').update(data).digest('hex')}.png`;
}

describe('S3BlobStore on a real S3-protocol server', () => {
  it('puts, stats and reads a blob whole and by byte range, with the key as a strong ETag', async () => {
    const data = randomBytes(10_000);
    const key = keyFor('task-a', data);
    const info = await blobs.put(key, data, 'image/png');
    expect(info).toEqual({ key, bytes: 10_000, contentType: 'image/png', etag: `"${key.slice(-68, -4)}"` });
    expect(await blobs.stat(key)).toEqual(info);
    expect(await buffer(blobs.read(key))).toEqual(data);
    expect(await buffer(blobs.read(key, { start: 100, end: 199 }))).toEqual(data.subarray(100, 200));
    expect(await blobs.ping()).toBe(true);
  });

  it('answers null for a missing or malformed key', async () => {
    expect(await blobs.stat('results/nope/0000.png')).toBeNull();
    expect(await blobs.stat('../etc/passwd')).toBeNull();
    expect(() => blobs.read('results/../x')).toThrow();
  });

  it('streams a large body in as a multipart upload', async () => {
    const data = randomBytes(11 * 1024 * 1024);
    const key = keyFor('task-big', data);
    await blobs.putStream(
      key,
      Readable.from([data.subarray(0, 4_000_000), data.subarray(4_000_000)]),
      'image/png',
    );
    expect((await blobs.stat(key))?.bytes).toBe(data.byteLength);
    expect(
      createHash('sha256')
        .update(await buffer(blobs.read(key)))
        .digest('hex'),
    ).toBe(createHash('sha256').update(data).digest('hex'));
  });

  it('deletes exactly one task’s blobs', async () => {
    const mine = [randomBytes(100), randomBytes(200)].map((data) => ({
      data,
      key: keyFor('task-gone', data),
    }));
    const other = { data: randomBytes(50), key: keyFor('task-gone-not', randomBytes(50)) };
    for (const each of [...mine, other]) await blobs.put(each.key, each.data, 'image/png');
    await blobs.deletePrefix('results/task-gone/');
    for (const each of mine) expect(await blobs.stat(each.key)).toBeNull();
    expect(await blobs.stat(other.key)).not.toBeNull();
  });
});
