import { connect } from 'node:net';
import { describe, expect } from 'vitest';
import { transparentPng } from '../support/fixtures.js';
import { eventually } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import { generateTask } from '../support/task-ops.js';

/**
 * Issue #27 item 7: a body that drips a byte just often enough to dodge the idle limit is ended by
 * the minimum body rate (REQUEST_BODY_MIN_BYTES_PER_SECOND over REQUEST_BODY_RATE_WINDOW_MS), long
 * before the request limit; and an answer that takes longer than the idle limit to start (a
 * rendition rendered on first fetch) is not cut, since only bodies still arriving are timed. The
 * limits are short here (a 300 ms idle limit, 50 B/s over 1 s) so that nothing waits a minute.
 */
const it = stackTest({
  engine: { durationMs: 200 },
  env: {
    REQUEST_IDLE_TIMEOUT_MS: '300',
    REQUEST_TIMEOUT_MS: '600000',
    REQUEST_BODY_MIN_BYTES_PER_SECOND: '50',
    REQUEST_BODY_RATE_WINDOW_MS: '1000',
  },
});

describe('a dripping body', () => {
  it('is answered 408 REQUEST_TOO_SLOW and closed once a rate window brings less than the minimum', async ({
    stack,
  }) => {
    const { port } = new URL(stack.url);
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => {});
    let received = '';
    socket.on('data', (chunk) => {
      received += String(chunk);
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const started = Date.now();
    socket.write(
      'POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n',
    );
    // A byte every 100 ms: under the idle limit each time, 10 B/s overall.
    const drip = setInterval(() => socket.writable && socket.write(' '), 100);
    await closed;
    clearInterval(drip);
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(received).toContain('"code":"REQUEST_TOO_SLOW"');
    // Ended by the rate (a window or two), nowhere near the 600 s request limit.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('lets a body that keeps the minimum rate through, however long it takes', async ({ stack }) => {
    const body = `{"query": "{ __typename }"${' '.repeat(400)}}`;
    const { port } = new URL(stack.url);
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => {
      received += String(chunk);
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    // 20 bytes every 100 ms: 200 B/s, four times the floor, for about 2 s.
    let sent = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        socket.write(body.slice(sent, sent + 20));
        sent += 20;
        if (sent >= body.length) {
          clearInterval(timer);
          resolve();
        }
      }, 100);
    });
    await closed;
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    expect(received).toContain('"__typename":"Query"');
  });
});

describe('a long answer to a GET', () => {
  it('is not cut by the idle limit: a rendition that takes longer to render than the limit arrives whole', async ({
    stack,
  }) => {
    const { id } = await generateTask(stack, { png: await transparentPng(2048, 2048), batch: 1 });
    const images = await eventually(async () => {
      const read = await stack.gql<{
        backgroundTask: { state: string; images: { avif: string; width: number }[] };
      }>(
        'query($id: ID!) { backgroundTask(id: $id) { state images { width avif: url(format: AVIF, width: 4096) } } }',
        {
          id,
        },
      );
      const task = read.body.data?.backgroundTask;
      return task?.state === 'SUCCEEDED' ? task.images : undefined;
    }, 30_000);
    const link = images[0]?.avif as string;
    const started = Date.now();
    const response = await fetch(link);
    const bytes = Buffer.from(await response.arrayBuffer());
    const took = Date.now() - started;
    expect(response.status).toBe(200);
    expect(bytes.subarray(4, 12).toString('latin1')).toBe('ftypavif');
    // The render took longer than the idle limit: without the fix the connection was cut.
    expect(took).toBeGreaterThan(300);
  });
});
