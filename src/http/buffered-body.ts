/**
 * An already-read body in the shape @whatwg-node/server takes from `req.body` as a raw body (an
 * async iterable with at least one own key), so Yoga parses it exactly as it would the stream.
 * The node handler reads a body itself (with `readUpTo`, request-body.ts: the http layer's one body
 * reader) only where it must see it first — a chunked body's size, the live routes' cache key and
 * stream parameters — and hands it on this way.
 */
export function bufferedBody(chunks: readonly Buffer[]): AsyncIterable<Buffer> & { readonly bytes: number } {
  return {
    bytes: chunks.reduce((sum, chunk) => sum + chunk.length, 0),
    async *[Symbol.asyncIterator]() {
      yield* chunks;
    },
  };
}
