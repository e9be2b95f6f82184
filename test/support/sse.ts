/**
 * The one SSE reader of the tests and the bench: splits `text/event-stream` text, as it arrives,
 * into events (name and data lines joined). Every transport of the gateway frames events this way
 * (src/http/live/PROTOCOL.md); blocks without an `event:` line (heartbeats, comments) are skipped.
 */

export interface SseBlock {
  event: string;
  /** The event's `data:` lines joined with newlines; '' when it has none. */
  data: string;
}

/** Keeps the partial block between pushes. */
export class SseSplitter {
  #buffer = '';

  /** The events `text` completes. */
  push(text: string): SseBlock[] {
    this.#buffer += text;
    const blocks: SseBlock[] = [];
    for (let end = this.#buffer.indexOf('\n\n'); end >= 0; end = this.#buffer.indexOf('\n\n')) {
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      const event = /^event: ?(.*)$/m.exec(block)?.[1];
      if (event === undefined) continue;
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      blocks.push({ event, data });
    }
    return blocks;
  }
}

/** The events of a fetch response body, as they arrive, until the stream ends. */
export async function* sseEvents(response: Response): AsyncGenerator<SseBlock> {
  if (!response.body) return;
  const decoder = new TextDecoder();
  const splitter = new SseSplitter();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    yield* splitter.push(decoder.decode(chunk, { stream: true }));
  }
}
