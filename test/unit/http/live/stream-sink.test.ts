import { createServer, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SharedEvent } from '../../../../src/http/live/stream-group.js';
import {
  APOLLO_MULTIPART,
  MAX_BUFFERED_BYTES,
  StreamSink,
  YOGA_SSE,
} from '../../../../src/http/live/stream-sink.js';

// The raw stream subscriber over a real loopback HTTP connection, in SSE and Apollo's multipart framing.

describe('stream sink', () => {
  let port = 0;
  let responses: ServerResponse[] = [];
  const server = createServer((_req, res) => {
    responses.push(res);
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const event = (size: number, final = false): SharedEvent => {
    const result = { data: { padding: 'x'.repeat(size) } };
    return { result, json: JSON.stringify(result), final };
  };

  async function open(read: boolean) {
    responses = [];
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
    });
    if (!read) socket.pause();
    socket.write(`GET / HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`);
    while (responses.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    return { socket, res: responses[0] as ServerResponse, received: () => received };
  }

  it('frames events as Yoga does and ends the stream after completion', async () => {
    const { socket, res, received } = await open(true);
    const sink = new StreamSink(res, YOGA_SSE, {});
    sink.next(event(3));
    sink.complete();
    await new Promise((resolve) => socket.once('end', resolve));
    const body = received().split('\r\n\r\n')[1];
    expect(body).toBe(':\n\nevent: next\ndata: {"data":{"padding":"xxx"}}\n\nevent: complete\ndata:\n\n');
    expect(received()).toMatch(/^content-type: text\/event-stream$/im);
    socket.destroy();
  });

  it.each([
    ['SSE', YOGA_SSE],
    ['multipart', APOLLO_MULTIPART],
  ])('drops a %s client that stops reading once its unsent data passes the bound', async (_name, framing) => {
    const { socket, res } = await open(false);
    const sink = new StreamSink(res, framing, {});
    const big = event(16 * 1024);
    let writes = 0;
    while (!res.destroyed && writes < 10_000) {
      sink.next(big);
      sink.ping();
      writes += 1;
      expect(res.writableLength).toBeLessThanOrEqual(MAX_BUFFERED_BYTES + 32 * 1024);
    }
    expect(res.destroyed).toBe(true);
    // Later events for a dropped stream are ignored, not thrown.
    sink.next(big);
    sink.complete();
    socket.destroy();
  });

  it("frames events, heartbeats and the end in Apollo's multipart format", async () => {
    const { socket, res, received } = await open(true);
    const sink = new StreamSink(res, APOLLO_MULTIPART, {});
    sink.next(event(3));
    sink.ping();
    sink.complete();
    await new Promise((resolve) => socket.once('end', resolve));
    const part = '\r\ncontent-type: application/json; charset=utf-8\r\n\r\n';
    expect(received()).toMatch(
      /^content-type: multipart\/mixed;boundary="graphql";subscriptionSpec="1.0"$/im,
    );
    expect(received().slice(received().indexOf('\r\n\r\n') + 4)).toBe(
      `\r\n--graphql${part}{"payload":{"data":{"padding":"xxx"}}}\r\n--graphql${part}{}\r\n--graphql--\r\n`,
    );
    socket.destroy();
  });

  it('ends a multipart stream whose source failed with a null payload and its errors', async () => {
    const { socket, res, received } = await open(true);
    const sink = new StreamSink(res, APOLLO_MULTIPART, {});
    sink.fail({ errors: [{ message: 'Unexpected error.' } as never] });
    await new Promise((resolve) => socket.once('end', resolve));
    expect(received()).toContain(
      '\r\n--graphql\r\ncontent-type: application/json; charset=utf-8\r\n\r\n{"payload":null,"errors":[{"message":"Unexpected error."}]}\r\n--graphql--\r\n',
    );
    socket.destroy();
  });
});
