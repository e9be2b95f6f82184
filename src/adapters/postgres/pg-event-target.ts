// Longer than most files: one listening connection carries every kind of notice between instances
// (task updates, queue moves, any other topic, watch announcements), so its reconnect logic exists once.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';
import type { TaskEventTarget } from '../../core/events.js';
import type { Task } from '../../core/model.js';

const TASK_TOPIC = 'task-updated:';
const QUEUE_TOPIC = 'queue-moved';

/** What travels in a NOTIFY: never the record (8000-byte limit, and readers load it anyway). */
type Notice = { readonly o: string } & (
  | { readonly k: 't'; readonly id: string; readonly v: number }
  | { readonly k: 'q' }
  | { readonly k: 'e'; readonly e: string; readonly d: unknown }
  | { readonly k: 'w'; readonly ids: readonly string[]; readonly on: boolean; readonly s: number }
);

type Callback = (event: Event) => void;

/**
 * Hears another instance announce that it watches tasks `ids` (`on`), or no longer does. `seq`
 * grows with each announcement of that instance: notices sent over different pooled connections
 * may arrive out of order, and a later one wins.
 */
export type WatchNoticeListener = (origin: string, ids: readonly string[], on: boolean, seq: number) => void;

/** How many bytes of task ids one watch notice carries at most, well under NOTIFY's 8000. */
const WATCH_NOTICE_BYTES = 6_000;

/** NOTIFY refuses a payload of 8000 bytes or more. */
const NOTICE_BYTES = 7_900;

/** What the event target needs to run. */
export interface PgEventTargetOptions {
  /** `DATABASE_URL`: the target keeps one connection of its own in LISTEN mode. */
  readonly url: string;
  /** Sends the NOTIFYs. */
  readonly pool: pg.Pool;
  /** Reads a task's stored record when another instance announces a change (the store's `get`). */
  readonly load: (taskId: string) => Promise<Task | null>;
  readonly logger: Logger;
  /** @default 'pwg_task_events' */
  readonly channel?: string;
}

/**
 * Task updates between gateway instances over PostgreSQL LISTEN/NOTIFY, as the event target of
 * `TaskEvents`. A notice carries only the task id and version; an instance with watchers of that
 * task loads the record from the store and hands it on, once per newer version. Its own updates
 * are delivered locally at once and their echo is skipped. Every other topic (a task's removal)
 * travels by its event type with its detail, delivered to that topic's listeners on each instance.
 *
 * The listening connection reconnects by itself (capped backoff). Notices sent while it was away
 * are gone, so after every reconnect it re-reads each task watched here and announces a queue
 * move: a subscriber sees the latest record either way and misses nothing that matters.
 */
export class PgTaskEventTarget implements TaskEventTarget {
  readonly #options: PgEventTargetOptions;
  readonly #channel: string;
  readonly #origin = randomUUID();
  readonly #callbacks = new Map<string, Set<Callback>>();
  /** Highest version handed to this instance's watchers, per watched task. */
  readonly #delivered = new Map<string, number>();
  /** Tasks being re-read; `true` means another notice came meanwhile, so read once more. */
  readonly #loading = new Map<string, boolean>();
  readonly #noticeListeners = new Set<(taskId: string) => void>();
  readonly #watchListeners = new Set<WatchNoticeListener>();
  #client: pg.Client | null = null;
  #closed = false;
  #down = false;
  #publishFailing = false;
  #watchSeq = 0;

  constructor(options: PgEventTargetOptions) {
    this.#options = options;
    this.#channel = options.channel ?? 'pwg_task_events';
    if (!/^[a-z_][a-z0-9_]*$/.test(this.#channel)) throw new Error('channel must be a plain identifier');
  }

  /** Connects and listens, retrying until it succeeds (or `close()` is called). */
  async start(): Promise<void> {
    await this.#connectUntilListening();
  }

  addEventListener(topic: string, listener: EventListenerOrEventListenerObject | null): void {
    if (!listener) return;
    let callbacks = this.#callbacks.get(topic);
    if (!callbacks) {
      callbacks = new Set();
      this.#callbacks.set(topic, callbacks);
    }
    callbacks.add(asCallback(listener));
  }

  removeEventListener(topic: string, listener: EventListenerOrEventListenerObject | null): void {
    const callbacks = this.#callbacks.get(topic);
    if (!listener || !callbacks) return;
    callbacks.delete(asCallback(listener));
    if (callbacks.size > 0) return;
    this.#callbacks.delete(topic);
    if (topic.startsWith(TASK_TOPIC)) this.#delivered.delete(topic.slice(TASK_TOPIC.length));
  }

  dispatchEvent(event: Event): boolean {
    const detail = (event as CustomEvent<unknown>).detail;
    if (event.type.startsWith(TASK_TOPIC)) {
      const task = detail as Task;
      this.#deliverTask(task);
      this.#notify({ o: this.#origin, k: 't', id: task.id, v: task.version });
    } else if (event.type === QUEUE_TOPIC) {
      this.#deliver(QUEUE_TOPIC, detail);
      this.#notify({ o: this.#origin, k: 'q' });
    } else {
      // Every other topic travels by its event type with its detail, as Yoga's Redis event target
      // does: a topic added to TaskEvents (say `task-removed`) reaches every instance unchanged.
      this.#deliver(event.type, detail);
      this.#notify({ o: this.#origin, k: 'e', e: event.type, d: detail });
    }
    return true;
  }

  /**
   * Calls `listener` with the id of every task another instance announced, watched here or not:
   * how the elected scheduler hears of a task created on a follower without waiting for a scan.
   */
  onTaskNotice(listener: (taskId: string) => void): void {
    this.#noticeListeners.add(listener);
  }

  /**
   * Tells the other instances that tasks `ids` are watched here (`on`), or no longer are: the
   * messages of the watch presence (pg-watch-presence.ts), on this channel so that one listening
   * connection carries everything. A long list goes in several notices.
   */
  announceWatches(ids: readonly string[], on: boolean): void {
    let chunk: string[] = [];
    let bytes = 0;
    for (const id of ids) {
      const size = Buffer.byteLength(id) + 3;
      if (chunk.length > 0 && bytes + size > WATCH_NOTICE_BYTES) {
        this.#notify({ o: this.#origin, k: 'w', ids: chunk, on, s: ++this.#watchSeq });
        chunk = [];
        bytes = 0;
      }
      chunk.push(id);
      bytes += size;
    }
    if (chunk.length > 0) this.#notify({ o: this.#origin, k: 'w', ids: chunk, on, s: ++this.#watchSeq });
  }

  /** Calls `listener` with every watch announcement of another instance. */
  onWatchNotice(listener: WatchNoticeListener): void {
    this.#watchListeners.add(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => undefined);
  }

  #deliver(topic: string, detail: unknown): void {
    const callbacks = this.#callbacks.get(topic);
    if (!callbacks) return;
    const event = new CustomEvent(topic, { detail });
    for (const callback of [...callbacks]) callback(event);
  }

  #deliverTask(task: Task): void {
    const topic = TASK_TOPIC + task.id;
    if (!this.#callbacks.has(topic)) return;
    if (task.version <= (this.#delivered.get(task.id) ?? 0)) return;
    this.#delivered.set(task.id, task.version);
    this.#deliver(topic, task);
  }

  #notify(notice: Notice): void {
    const payload = JSON.stringify(notice);
    if (Buffer.byteLength(payload) > NOTICE_BYTES) {
      this.#options.logger.error(
        { topic: notice.k === 'e' ? notice.e : notice.k, bytes: Buffer.byteLength(payload) },
        'an event is too large for a PostgreSQL NOTIFY; only this instance received it',
      );
      return;
    }
    this.#options.pool.query('select pg_notify($1, $2)', [this.#channel, payload]).then(
      () => {
        this.#publishFailing = false;
      },
      (error: Error) => {
        // The change is in the store; other instances re-read watched tasks when they reconnect.
        if (this.#publishFailing) return;
        this.#publishFailing = true;
        this.#options.logger.warn(
          { err: error.message },
          'could not notify the other instances (PostgreSQL unreachable)',
        );
      },
    );
  }

  #onNotice(payload: string | undefined): void {
    let notice: Notice;
    try {
      notice = JSON.parse(payload ?? '') as Notice;
    } catch {
      return;
    }
    if (notice.o === this.#origin) return;
    if (notice.k === 'q') {
      this.#deliver(QUEUE_TOPIC, Date.now());
      return;
    }
    if (notice.k === 'w') {
      for (const listener of this.#watchListeners) listener(notice.o, notice.ids, notice.on, notice.s);
      return;
    }
    if (notice.k === 'e') {
      this.#deliver(notice.e, notice.d);
      return;
    }
    for (const listener of this.#noticeListeners) listener(notice.id);
    if (this.#callbacks.has(TASK_TOPIC + notice.id) && notice.v > (this.#delivered.get(notice.id) ?? 0)) {
      void this.#refresh(notice.id);
    }
  }

  /** Loads a watched task and delivers it if it is newer than what its watchers have seen. */
  async #refresh(taskId: string): Promise<void> {
    if (this.#loading.has(taskId)) {
      this.#loading.set(taskId, true);
      return;
    }
    this.#loading.set(taskId, false);
    try {
      do {
        this.#loading.set(taskId, false);
        const task = await this.#options.load(taskId).catch(() => null);
        if (task) this.#deliverTask(task);
      } while (this.#loading.get(taskId));
    } finally {
      this.#loading.delete(taskId);
    }
  }

  async #connectUntilListening(): Promise<void> {
    for (let attempt = 1; !this.#closed; attempt += 1) {
      try {
        await this.#listen();
        return;
      } catch (error) {
        if (!this.#down) {
          this.#down = true;
          this.#options.logger.warn(
            { err: (error as Error).message },
            'PostgreSQL LISTEN connection failed; retrying',
          );
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * attempt, 2_000)));
      }
    }
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.#options.url,
      application_name: 'pwg-listen',
      keepAlive: true,
      connectionTimeoutMillis: 5_000,
    });
    const lost = (error?: Error) => this.#lost(client, error);
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (message) => {
      if (message.channel === this.#channel) this.#onNotice(message.payload);
    });
    try {
      await client.connect();
      await client.query(`listen ${this.#channel}`);
    } catch (error) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.#closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
    if (this.#down) {
      this.#down = false;
      this.#options.logger.warn('PostgreSQL LISTEN connection is back; re-reading watched tasks');
    }
    this.#resync();
  }

  #lost(client: pg.Client, error?: Error): void {
    if (this.#client !== client || this.#closed) return;
    this.#client = null;
    this.#down = true;
    this.#options.logger.warn({ err: error?.message }, 'PostgreSQL LISTEN connection lost; reconnecting');
    client.end().catch(() => undefined);
    void this.#connectUntilListening();
  }

  /** After a (re)connect: whatever was announced while nobody listened is read from the store. */
  #resync(): void {
    for (const topic of this.#callbacks.keys()) {
      if (topic.startsWith(TASK_TOPIC)) void this.#refresh(topic.slice(TASK_TOPIC.length));
    }
    this.#deliver(QUEUE_TOPIC, Date.now());
  }
}

/** The same function for the same listener, so removeEventListener finds what addEventListener stored. */
const wrapped = new WeakMap<EventListenerObject, Callback>();
function asCallback(listener: EventListenerOrEventListenerObject): Callback {
  if (typeof listener === 'function') return listener;
  let callback = wrapped.get(listener);
  if (!callback) {
    callback = (event) => listener.handleEvent(event);
    wrapped.set(listener, callback);
  }
  return callback;
}
