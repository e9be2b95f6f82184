import type { WatchPresence } from '../../core/events.js';
import type { PgTaskEventTarget } from './pg-event-target.js';

/** What the presence needs of the event target: its watch notices on the shared LISTEN connection. */
export type WatchNotices = Pick<PgTaskEventTarget, 'announceWatches' | 'onWatchNotice'>;

/** What the presence needs to run. */
export interface PgWatchPresenceOptions {
  readonly notices: WatchNotices;
  /**
   * How often this instance re-announces every task watched here.
   * @default 5000
   */
  readonly heartbeatMs?: number;
  /**
   * How long another instance's announcement counts without being renewed: three heartbeats, so
   * one or two lost notices (or a busy event loop) do not drop a watch.
   * @default 3 × heartbeatMs
   */
  readonly lapseMs?: number;
}

/**
 * Which tasks are watched on the other instances of a PostgreSQL cluster, so that the elected
 * leader of a key polls a task watched on a follower as eagerly as one watched on itself.
 *
 * Each instance sends a NOTIFY (through `PgTaskEventTarget`, whose one listening connection and
 * reconnects carry it) when its watchers of a task go from none to some and back, and re-announces
 * all of its watched tasks every heartbeat. What another instance announced counts for `lapseMs`
 * after it was last heard, on this instance's own clock; so nothing needs cleaning up when an
 * instance dies (SIGKILL, a lost machine) or cannot reach PostgreSQL: its watches lapse. A notice
 * missed while this instance's listening connection was down is made up by the next heartbeat,
 * and one overtaken by a later notice of the same instance is ignored (their sequence numbers).
 */
export class PgWatchPresence implements WatchPresence {
  readonly #notices: WatchNotices;
  readonly #heartbeatMs: number;
  readonly #lapseMs: number;
  /** Tasks watched on this process. */
  readonly #here = new Set<string>();
  /**
   * Per task watched elsewhere, per announcing instance: when its watch lapses (ms epoch; 0 once
   * it said it stopped) and the sequence number of what it said last, so an older notice arriving
   * late is ignored.
   */
  readonly #elsewhere = new Map<string, Map<string, { lapsesAt: number; seq: number }>>();
  #timer: NodeJS.Timeout | null = null;

  constructor(options: PgWatchPresenceOptions) {
    this.#notices = options.notices;
    this.#heartbeatMs = options.heartbeatMs ?? 5_000;
    this.#lapseMs = options.lapseMs ?? 3 * this.#heartbeatMs;
    this.#notices.onWatchNotice((origin, ids, on, seq) => this.#heard(origin, ids, on, seq));
  }

  /** Starts the heartbeat: re-announcing this instance's watches and forgetting lapsed ones. */
  start(): void {
    this.#timer ??= setInterval(() => this.#beat(), this.#heartbeatMs);
    this.#timer.unref();
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  watchedHere(taskId: string, watched: boolean): void {
    if (watched) this.#here.add(taskId);
    else this.#here.delete(taskId);
    this.#notices.announceWatches([taskId], watched);
  }

  watchedElsewhere(taskId: string): boolean {
    const now = Date.now();
    for (const { lapsesAt } of this.#elsewhere.get(taskId)?.values() ?? []) if (lapsesAt > now) return true;
    return false;
  }

  #heard(origin: string, ids: readonly string[], on: boolean, seq: number): void {
    const lapsesAt = on ? Date.now() + this.#lapseMs : 0;
    for (const id of ids) {
      let origins = this.#elsewhere.get(id);
      if (!origins) {
        origins = new Map();
        this.#elsewhere.set(id, origins);
      }
      if ((origins.get(origin)?.seq ?? Number.NEGATIVE_INFINITY) > seq) continue;
      // An end of watching stays (as lapsed) until the next heartbeat, to outrank a late older notice.
      origins.set(origin, { lapsesAt, seq });
    }
  }

  #beat(): void {
    if (this.#here.size > 0) this.#notices.announceWatches([...this.#here], true);
    const now = Date.now();
    for (const [id, origins] of this.#elsewhere) {
      for (const [origin, { lapsesAt }] of origins) if (lapsesAt <= now) origins.delete(origin);
      if (origins.size === 0) this.#elsewhere.delete(id);
    }
  }
}
