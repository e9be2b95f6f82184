import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Caller } from '../core/caller.js';

/** How many event streams one holder may keep open on this process. */
export interface StreamCapsOptions {
  /** `SSE_STREAMS_PER_TENANT`. @default 1000 */
  readonly perTenant?: number;
  /** `SSE_STREAMS_PER_SUBJECT`: one end user's (a session's subject) share of its tenant's. @default 20 */
  readonly perSubject?: number;
}

export const DEFAULT_STREAMS_PER_TENANT = 1000;
export const DEFAULT_STREAMS_PER_SUBJECT = 20;

/** One holder a stream counts against: its tenant, and for a session its end user (subject, #23). */
export interface StreamHolder {
  /** The counter's key, e.g. `tenant:<id>`. */
  readonly key: string;
  readonly limit: number;
  /** Names the setting in the refusal, e.g. `SSE_STREAMS_PER_TENANT`. */
  readonly setting: string;
}

/**
 * Open event streams (`Accept: text/event-stream`: Yoga's SSE on `/graphql`, graphql-sse's
 * distinct connections, the single-connection stream; and Apollo's multipart subscriptions,
 * `subscriptionSpec` in `Accept`) counted per holder, each while its response
 * is open, so one tenant cannot hold the process's connections and memory. Counted once the
 * request is authenticated, before any transport runs; a stream over a holder's limit is refused.
 * A session's stream also counts against its end user's own limit (`SSE_STREAMS_PER_SUBJECT`), so
 * one user's tabs cannot take the tenant's whole share.
 */
export class StreamCaps {
  readonly #open = new Map<string, number>();
  readonly #perTenant: number;
  readonly #perSubject: number;

  constructor(options: StreamCapsOptions = {}) {
    this.#perTenant = options.perTenant ?? DEFAULT_STREAMS_PER_TENANT;
    this.#perSubject = options.perSubject ?? DEFAULT_STREAMS_PER_SUBJECT;
  }

  /** The holders a request's stream counts against: its tenant, and a session's end user. */
  holders(caller: Caller): StreamHolder[] {
    const tenant = {
      key: `tenant:${caller.tenantId}`,
      limit: this.#perTenant,
      setting: 'SSE_STREAMS_PER_TENANT',
    };
    if (caller.subject === null) return [tenant];
    const subject = `subject:${caller.tenantId}\u0000${caller.subject}`;
    return [tenant, { key: subject, limit: this.#perSubject, setting: 'SSE_STREAMS_PER_SUBJECT' }];
  }

  /**
   * Counts `req`'s stream against `holders` until `res` closes; the holder whose limit it would
   * pass, or null when admitted (or when `req` is not an event stream).
   */
  admit(req: IncomingMessage, res: ServerResponse, holders: readonly StreamHolder[]): StreamHolder | null {
    const accept = req.headers.accept ?? '';
    if (!accept.includes('text/event-stream') && !/subscriptionSpec/i.test(accept)) return null;
    const full = holders.find((holder) => (this.#open.get(holder.key) ?? 0) >= holder.limit);
    if (full) return full;
    for (const holder of holders) this.#open.set(holder.key, (this.#open.get(holder.key) ?? 0) + 1);
    res.once('close', () => {
      for (const holder of holders) {
        const left = (this.#open.get(holder.key) ?? 1) - 1;
        if (left > 0) this.#open.set(holder.key, left);
        else this.#open.delete(holder.key);
      }
    });
    return null;
  }

  /** Streams open for `key` (for tests and metrics). */
  openFor(key: string): number {
    return this.#open.get(key) ?? 0;
  }
}
