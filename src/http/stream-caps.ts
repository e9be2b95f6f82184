import type { IncomingMessage, ServerResponse } from 'node:http';

/** How many event streams one holder may keep open on this process. */
export interface StreamCapsOptions {
  /** `SSE_STREAMS_PER_TENANT`. @default 1000 */
  readonly perTenant?: number;
}

export const DEFAULT_STREAMS_PER_TENANT = 1000;

/** One holder a stream counts against: a tenant now, an end user (subject, #23) once it is known. */
export interface StreamHolder {
  /** The counter's key, e.g. `tenant:<id>`. */
  readonly key: string;
  readonly limit: number;
  /** Names the setting in the refusal, e.g. `SSE_STREAMS_PER_TENANT`. */
  readonly setting: string;
}

/**
 * Open event streams (`Accept: text/event-stream`: Yoga's SSE on `/graphql`, graphql-sse's
 * distinct connections, the single-connection stream) counted per holder, each while its response
 * is open, so one tenant cannot hold the process's connections and memory. Counted once the
 * request is authenticated, before any transport runs; a stream over a holder's limit is refused.
 * A subject's limit (`SSE_STREAMS_PER_SUBJECT`, #23) is one more holder in `holders`.
 */
export class StreamCaps {
  readonly #open = new Map<string, number>();
  readonly #perTenant: number;

  constructor(options: StreamCapsOptions = {}) {
    this.#perTenant = options.perTenant ?? DEFAULT_STREAMS_PER_TENANT;
  }

  /** The holders a request's stream counts against. */
  holders(tenantId: string): StreamHolder[] {
    return [{ key: `tenant:${tenantId}`, limit: this.#perTenant, setting: 'SSE_STREAMS_PER_TENANT' }];
  }

  /**
   * Counts `req`'s stream against `holders` until `res` closes; the holder whose limit it would
   * pass, or null when admitted (or when `req` is not an event stream).
   */
  admit(req: IncomingMessage, res: ServerResponse, holders: readonly StreamHolder[]): StreamHolder | null {
    if (!(req.headers.accept ?? '').includes('text/event-stream')) return null;
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
