import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { transparentPng } from '../support/fixtures.js';
import { eventually, type TestStack } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import { generateTask, watch } from '../support/task-ops.js';

/**
 * Slow bodies: a client that stops sending, or trickles bytes, loses its connection (and its
 * spooled upload) after REQUEST_IDLE_TIMEOUT_MS / REQUEST_TIMEOUT_MS instead of Node's 300 s.
 * The limits are short here so the test does not wait; it asserts on what happened, not on when.
 */

const it = stackTest({
  engine: { durationMs: 3_000 },
  env: { REQUEST_IDLE_TIMEOUT_MS: '400', REQUEST_TIMEOUT_MS: '2000' },
});

/** Opens a raw connection to the gateway and resolves once it is closed by the other side. */
function rawConnection(stack: TestStack): { socket: Socket; closed: Promise<string> } {
  const { port } = new URL(stack.url);
  const socket = connect(Number(port), '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => {
    received += String(chunk);
  });
  socket.on('error', () => {});
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(received)));
  return { socket, closed };
}

const spoolFiles = (stack: TestStack) => readdirSync(join(stack.dataDir, 'spool'));

describe('slow request bodies', () => {
  it('cuts a JSON body that stops arriving', async ({ stack }) => {
    const { socket, closed } = rawConnection(stack);
    socket.write(
      'POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"query":',
    );
    await closed;
    expect(socket.destroyed).toBe(true);
  });

  it('cuts a request whose headers never finish, answering 408', async ({ stack }) => {
    const { socket, closed } = rawConnection(stack);
    socket.write('POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n');
    expect(await closed).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('cuts an upload that stops arriving and removes its spool file', async ({ stack }) => {
    const png = await transparentPng(600, 400);
    const boundary = 'hostileboundary';
    const head = [
      `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n`,
      JSON.stringify({
        query:
          'mutation($f: Upload!) { generateBackground(input: { image: { file: $f }, background: { prompt: "x" } }) { id } }',
        variables: { f: null },
      }),
      `\r\n--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.f"]}`,
      `\r\n--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`,
    ].join('');
    const { socket, closed } = rawConnection(stack);
    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\napollo-require-preflight: true\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${head.length + png.length + 100}\r\n\r\n`,
    );
    socket.write(head);
    socket.write(png.subarray(0, png.length / 2));
    await closed;
    await eventually(async () => (spoolFiles(stack).length === 0 ? true : undefined), 10_000);
  });

  it('cuts a body trickled just fast enough to dodge the idle limit once the request limit is over', async ({
    stack,
  }) => {
    const { socket, closed } = rawConnection(stack);
    socket.write(
      'POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n',
    );
    const trickle = setInterval(() => socket.write(' '), 150);
    const answer = await closed;
    clearInterval(trickle);
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
  });

  it('leaves a live SSE stream alone past the idle limit: only bodies are timed', async ({ stack }) => {
    // The engine takes 3 s, several idle limits, with quiet stretches between updates.
    const task = await generateTask(stack, { batch: 1 });
    const snapshots = await watch(stack, task.id);
    expect(snapshots.at(-1)?.state).toBe('SUCCEEDED');
  });
});
