import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The open streaming responses (SSE and multipart) of this process, so a graceful shutdown can end them properly. An SSE
 * stream never goes idle by itself, so without this the server would wait for it forever or cut
 * it mid-chunk. A stream ended without a `complete` event is, to graphql-sse clients and
 * EventSource alike, a dropped connection: they reconnect (to another instance behind the load
 * balancer) and the subscription starts again from the task's current snapshot.
 */
export class EventStreams {
  readonly #open = new Set<ServerResponse>();

  /** Call for every request; remembers it if it asked for a stream (SSE or Apollo's multipart). */
  track(req: IncomingMessage, res: ServerResponse): void {
    if (!/text\/event-stream|multipart\/mixed/.test(req.headers.accept ?? '')) return;
    this.#open.add(res);
    res.once('close', () => this.#open.delete(res));
  }

  get size(): number {
    return this.#open.size;
  }

  /** Ends every open stream cleanly (the chunked body is terminated, the socket stays healthy). */
  endAll(): void {
    for (const res of this.#open) {
      // Whatever the stream's producer still writes after this is dropped, not thrown.
      res.on('error', () => {});
      if (!res.headersSent) res.writeHead(503, { 'retry-after': '1', connection: 'close' });
      res.end();
    }
    this.#open.clear();
  }
}
