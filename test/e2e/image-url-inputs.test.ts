import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { transparentPng } from '../support/fixtures.js';
import { eventually, type GraphQLErrorShape, type TestStack, uploadOperation } from '../support/harness.js';
import {
  type CountingServer,
  loopbackSpellings,
  startCountingServer,
  stopCountingServer,
  streamLargeBody,
} from '../support/loopback-transport.js';
import { stackTest } from '../support/stack-test.js';

/**
 * Issue #14, item 1 (and #18's guarded fetcher) end to end: an image URL is fetched once by the
 * gateway, checked like an upload and sent to the local engine as image_file; every problem is a
 * BAD_USER_INPUT on input.image.url with nothing sent upstream. The image servers are this file's
 * own, on loopback; the harness's transport keeps every other address out of reach.
 */

const GENERATE = `mutation($url: String!) {
  generateBackground(input: { image: { url: $url }, background: { prompt: "white marble" }, batchSize: 1 }) { id state }
}`;
const GENERATE_UPLOAD = `mutation($file: Upload!) {
  generateBackground(input: { image: { file: $file }, background: { prompt: "white marble" }, batchSize: 1 }) { id state }
}`;
const TASK = 'query($id: ID!) { backgroundTask(id: $id) { state upstreamTaskId error { code } } }';

let png: Buffer;
let jpeg: Buffer;

beforeAll(async () => {
  png = await transparentPng(400, 300);
  jpeg = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#d0d0d0' } })
    .jpeg()
    .toBuffer();
});

/** The first error of a generate answer, or null when a task was created. */
async function refusal(stack: TestStack, url: string): Promise<GraphQLErrorShape | null> {
  const answer = await stack.gql(GENERATE, { url });
  return answer.body.errors?.[0] ?? null;
}

const itLocalSetup = stackTest({
  engine: { durationMs: 300 },
  env: { IMAGE_URL_ALLOW_PRIVATE: 'true', IMAGE_URL_TIMEOUT_MS: '1500' },
});
const itByDefault = stackTest({ engine: { durationMs: 300 } });

describe('image URLs in a local setup (IMAGE_URL_ALLOW_PRIVATE=true)', () => {
  let images: CountingServer;
  let base: string;

  beforeAll(async () => {
    images = await startCountingServer((req, res) => {
      switch (req.url) {
        case '/product.png':
          return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(png);
        case '/photo.jpg':
          return void res.writeHead(200, { 'content-type': 'image/png' }).end(jpeg);
        case '/page.png':
          return void res
            .writeHead(200, { 'content-type': 'image/png' })
            .end('<!doctype html><title>shop</title>');
        case '/hang.png':
          return;
        case '/loop.png':
          return void res.writeHead(302, { location: '/loop.png' }).end();
        case '/huge.png': {
          // A PNG whose header is fine, then a 60 MB ancillary chunk: only the size can stop it.
          const chunkHeader = Buffer.alloc(8);
          chunkHeader.writeUInt32BE(60 * 1024 * 1024);
          chunkHeader.write('tEXt', 4, 'latin1');
          return streamLargeBody(res, Buffer.concat([png.subarray(0, 33), chunkHeader]), 60);
        }
        default:
          return void res.writeHead(404).end('no such image');
      }
    });
    base = images.url;
  });

  afterAll(async () => {
    await stopCountingServer(images);
  });

  itLocalSetup(
    'fetches a good PNG once and sends it to the engine as image_file, which succeeds',
    async ({ stack }) => {
      const requestsBefore = images.connections;
      const answer = await stack.gql<{ generateBackground: { id: string } }>(GENERATE, {
        url: `${base}/product.png`,
      });
      expect(answer.body.errors).toBeUndefined();
      const id = answer.body.data!.generateBackground.id;
      const done = await eventually(async () => {
        const task = (
          await stack.gql<{ backgroundTask: { state: string; upstreamTaskId: string } }>(TASK, { id })
        ).body.data?.backgroundTask;
        return task && ['SUCCEEDED', 'FAILED'].includes(task.state) ? task : undefined;
      });
      expect(done.state).toBe('SUCCEEDED');
      const sent = stack.engine.stats().creates_log.find((entry) => entry.taskId === done.upstreamTaskId);
      expect(sent?.hadFile).toBe(true);
      expect(sent?.fields.image_url).toBeUndefined();
      expect(images.connections - requestsBefore).toBe(1);
    },
  );

  itLocalSetup.for<[string, string, string]>([
    ['an HTML page (labelled image/png)', '/page.png', 'NOT_AN_IMAGE'],
    ['a 404', '/missing.png', 'URL_UNREACHABLE'],
    ['a server that never answers', '/hang.png', 'URL_TIMEOUT'],
    ['a 60 MB body', '/huge.png', 'URL_TOO_LARGE'],
    ['a redirect loop', '/loop.png', 'URL_TOO_MANY_REDIRECTS'],
  ])(
    'refuses %s with %s on input.image.url and sends nothing upstream',
    async ([_case, path, reason], { stack }) => {
      stack.engine.resetStats();
      const error = await refusal(stack, `${base}${path}`);
      expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason, field: 'input.image.url' });
      expect(stack.engine.stats()).toMatchObject({ creates: 0, createAttempts: 0 });
      expect(readdirSync(join(stack.dataDir, 'spool'))).toEqual([]);
    },
  );

  itLocalSetup(
    'refuses an opaque JPEG exactly as it refuses the same file uploaded, sending nothing upstream',
    async ({ stack }) => {
      stack.engine.resetStats();
      const uploaded = await uploadOperation(
        stack.url,
        GENERATE_UPLOAD,
        { file: null },
        {
          variablePath: 'variables.file',
          bytes: jpeg,
        },
      );
      const uploadReason = uploaded.body.errors?.[0]?.extensions?.reason;
      expect(uploadReason).toEqual(expect.any(String));
      const error = await refusal(stack, `${base}/photo.jpg`);
      expect(error?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        reason: uploadReason,
        field: 'input.image.url',
      });
      expect(stack.engine.stats()).toMatchObject({ creates: 0, createAttempts: 0 });
    },
  );
});

describe('image URLs with the default settings', () => {
  let v4: CountingServer;
  let v6: CountingServer | null;

  beforeAll(async () => {
    const handler = (_req: unknown, res: { end: (body: Buffer) => void }) => res.end(png);
    v4 = await startCountingServer(handler);
    v6 = await startCountingServer(handler, '::1').catch(() => null);
  });

  afterAll(async () => {
    await stopCountingServer(v4);
    await stopCountingServer(v6);
  });

  itByDefault(
    'refuses every spelling of this machine before any connection, sending nothing upstream',
    async ({ stack }) => {
      stack.engine.resetStats();
      for (const url of loopbackSpellings(v4.port, v6?.port)) {
        const error = await refusal(stack, url);
        expect([url, error?.extensions?.reason, error?.extensions?.field]).toEqual([
          url,
          'URL_NOT_ALLOWED',
          'input.image.url',
        ]);
      }
      expect(v4.connections).toBe(0);
      expect(v6?.connections ?? 0).toBe(0);
      expect(stack.engine.stats()).toMatchObject({ creates: 0, createAttempts: 0 });
    },
  );

  itByDefault(
    'still stores results from the configured upstream on loopback (its own origin)',
    async ({ stack }) => {
      const answer = await uploadOperation(
        stack.url,
        GENERATE_UPLOAD,
        { file: null },
        {
          variablePath: 'variables.file',
          bytes: png,
        },
      );
      const id = (answer.body.data as { generateBackground: { id: string } }).generateBackground.id;
      const done = await eventually(async () => {
        const task = (await stack.gql<{ backgroundTask: { state: string } }>(TASK, { id })).body.data
          ?.backgroundTask;
        return task && ['SUCCEEDED', 'FAILED'].includes(task.state) ? task : undefined;
      });
      expect(done.state).toBe('SUCCEEDED');
    },
  );
});
