import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { SseSplitter } from '../../test/support/sse.js';

/**
 * The gateway's four subscription transports (src/http/live/PROTOCOL.md): Yoga's SSE and Apollo's
 * multipart on `/graphql`, graphql-sse's distinct connections and its single-connection mode on
 * `/graphql/stream` (here one reservation and stream per subscriber, the most a subscription can
 * cost in that mode).
 */
export type Transport = 'yoga' | 'distinct' | 'single' | 'multipart';

export const TRANSPORTS: readonly Transport[] = ['yoga', 'distinct', 'single', 'multipart'];

/** What Apollo Client 4's HttpLink sends for a subscription. */
const MULTIPART_ACCEPT =
  'multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/graphql-response+json,application/json;q=0.9';
const BOUNDARY = '\r\n--graphql';

/** One `next` event as a subscriber saw it. */
export interface ReceivedEvent {
  /** performance.now() in the bench process when the bytes arrived. */
  at: number;
  data: string;
}

/**
 * A subscription over a raw socket: one HTTP/1.1 request, a minimal chunked-transfer decoder
 * and an SSE or multipart splitter (bodies may be chunked or end with the connection). Cheap enough to hold ten
 * thousand of them open from one process. In single-connection mode the reservation (PUT) and the
 * operation (POST, answered 202) go over fetch; only the stream (GET) holds a socket.
 *
 * With `keep` false, events are only counted (no text is kept), for the memory benchmark.
 */
export class SseSubscriber {
  socket: Socket | null = null;
  #closed = false;
  status = 0;
  nextCount = 0;
  completed = false;
  readonly #events: ReceivedEvent[] = [];
  /** Alternating receive times and decoded text, parsed on demand. */
  readonly #raw: Array<number | string> = [];

  /** The `next` events received so far. */
  get events(): ReceivedEvent[] {
    this.#parse();
    return this.#events;
  }
  readonly firstNext: Promise<void>;
  readonly ended: Promise<void>;
  #resolveFirst!: () => void;
  #head = '';
  #headersDone = false;
  #chunked = false;
  /** Bytes left in the current chunk (chunked mode). */
  #chunkLeft = 0;
  #sizeLine = '';
  #skipCrlf = 0;
  readonly #sse = new SseSplitter();
  /** The multipart text not yet split at a boundary. */
  #parts = '';
  #live = false;
  readonly #multipart: boolean;

  #resolveEnded!: () => void;

  constructor(
    port: number,
    body: string,
    private readonly keep: boolean,
    transport: Transport = 'yoga',
  ) {
    this.firstNext = new Promise((resolve) => {
      this.#resolveFirst = resolve;
    });
    this.ended = new Promise((resolve) => {
      this.#resolveEnded = resolve;
    });
    const length = Buffer.byteLength(body);
    this.#multipart = transport === 'multipart';
    const post = (path: string, accept = 'text/event-stream') =>
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: ${accept}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n${body}`;
    if (transport === 'yoga') this.#connect(port, post('/graphql'));
    else if (transport === 'multipart') this.#connect(port, post('/graphql', MULTIPART_ACCEPT));
    else if (transport === 'distinct') this.#connect(port, post('/graphql/stream'));
    else void this.#single(port, body);
  }

  close(): void {
    this.#closed = true;
    this.socket?.destroy();
    if (!this.socket) this.#ended();
  }

  async #single(port: number, body: string): Promise<void> {
    const origin = `http://127.0.0.1:${port}/graphql/stream`;
    try {
      const reserved = await fetch(origin, { method: 'PUT' });
      const token = await reserved.text();
      if (reserved.status !== 201) this.status = reserved.status;
      if (this.#closed || reserved.status !== 201) return this.#ended();
      const opened = new Promise<void>((resolve) => {
        this.#onHead = resolve;
      });
      this.#connect(
        port,
        `GET /graphql/stream HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\nX-GraphQL-Event-Stream-Token: ${token}\r\n\r\n`,
      );
      await opened;
      const operation = { ...(JSON.parse(body) as object), extensions: { operationId: 'op' } };
      const answer = await fetch(origin, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-graphql-event-stream-token': token },
        body: JSON.stringify(operation),
      });
      await answer.arrayBuffer();
      if (answer.status !== 202) this.status = answer.status;
    } catch {
      this.close();
    }
  }

  #onHead: () => void = () => {};

  #ended(): void {
    this.#resolveFirst();
    this.#resolveEnded();
  }

  #connect(port: number, request: string): void {
    const socket = connect({ port, host: '127.0.0.1' });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setEncoding('latin1');
    socket.write(request);
    socket.on('data', (chunk: string) => this.#onData(chunk));
    socket.once('close', () => this.#ended());
    socket.on('error', () => {});
  }

  #onData(chunk: string): void {
    const at = performance.now();
    let text = chunk;
    if (!this.#headersDone) {
      this.#head += text;
      const end = this.#head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.#head.slice(0, end);
      this.status = Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0);
      this.#chunked = /^transfer-encoding:\s*chunked/im.test(head);
      this.#headersDone = true;
      text = this.#head.slice(end + 4);
      this.#head = '';
      this.#onHead();
    }
    this.#sseText(this.#chunked ? this.#dechunk(text) : text, at);
  }

  #dechunk(text: string): string {
    let out = '';
    let i = 0;
    while (i < text.length) {
      if (this.#skipCrlf > 0) {
        i += 1;
        this.#skipCrlf -= 1;
        continue;
      }
      if (this.#chunkLeft > 0) {
        const take = Math.min(this.#chunkLeft, text.length - i);
        out += text.slice(i, i + take);
        this.#chunkLeft -= take;
        i += take;
        if (this.#chunkLeft === 0) this.#skipCrlf = 2;
        continue;
      }
      const nl = text.indexOf('\n', i);
      if (nl < 0) {
        this.#sizeLine += text.slice(i);
        break;
      }
      const line = (this.#sizeLine + text.slice(i, nl)).trim();
      this.#sizeLine = '';
      i = nl + 1;
      if (line === '') continue;
      const size = Number.parseInt(line, 16);
      if (size === 0) {
        this.completed = true;
        continue;
      }
      this.#chunkLeft = size;
    }
    return out;
  }

  #sseText(text: string, at: number): void {
    if (!this.#live && text.includes(this.#multipart ? '{"payload":' : 'event: next')) {
      this.#live = true;
      this.#resolveFirst();
    }
    if (!this.keep) return;
    this.#raw.push(at, interned(text));
  }

  /** Splits what arrived into events (after the run, so receiving stays cheap). */
  #parse(): void {
    for (let i = 0; i < this.#raw.length; i += 2)
      this.#split(this.#raw[i + 1] as string, this.#raw[i] as number);
    this.#raw.length = 0;
  }

  #split(text: string, at: number): void {
    if (this.#multipart) {
      this.#splitParts(text, at);
      return;
    }
    for (const { event, data: latin1 } of this.#sse.push(text)) {
      if (event === 'complete') this.completed = true;
      if (event !== 'next') continue;
      let data = Buffer.from(latin1, 'latin1').toString('utf8');
      // Single-connection mode wraps each result as {"id":…,"payload":…}.
      if (data.startsWith('{"id":'))
        data = JSON.stringify((JSON.parse(data) as { payload: unknown }).payload);
      this.nextCount += 1;
      this.#events.push({ at, data });
    }
  }

  /** Apollo's multipart parts: `{"payload":…}` per event, `{}` heartbeats, `--` after the last boundary. */
  #splitParts(text: string, at: number): void {
    this.#parts += text;
    for (let end = this.#parts.indexOf(BOUNDARY); end >= 0; end = this.#parts.indexOf(BOUNDARY)) {
      const part = this.#parts.slice(0, end);
      this.#parts = this.#parts.slice(end + BOUNDARY.length);
      const body = part.slice(part.indexOf('\r\n\r\n') + 4);
      if (!body.startsWith('{"payload":')) continue;
      const data = Buffer.from(body, 'latin1').toString('utf8');
      this.nextCount += 1;
      this.#events.push({ at, data: JSON.stringify((JSON.parse(data) as { payload: unknown }).payload) });
    }
    if (this.#parts.startsWith('--')) this.completed = true;
  }
}

/**
 * Ten thousand readers receive the same bytes as ten thousand separate strings; kept as they are,
 * a run at 10000 holds ~100 MB of copies in this process and its garbage collections land inside
 * the latencies being measured. One shared copy per distinct chunk keeps the recording small.
 */
const chunks = new Map<string, string>();

function interned(text: string): string {
  const known = chunks.get(text);
  if (known !== undefined) return known;
  if (chunks.size >= 100_000) chunks.clear();
  chunks.set(text, text);
  return text;
}

/** Opens `count` subscriptions in batches (the listen backlog is finite) and waits for each first event. */
export async function openSubscribers(
  count: number,
  make: (index: number) => SseSubscriber,
  batch = 250,
): Promise<SseSubscriber[]> {
  const all: SseSubscriber[] = [];
  for (let start = 0; start < count; start += batch) {
    const group: SseSubscriber[] = [];
    for (let i = start; i < Math.min(count, start + batch); i += 1) group.push(make(i));
    await Promise.all(group.map((s) => s.firstNext));
    all.push(...group);
  }
  return all;
}
