import { type GroupDeps, StreamGroup, type StreamSpec, type Subscriber } from './stream-group.js';

/**
 * The protocol core of the live task streams (PROTOCOL.md): every transport adapter — Yoga's SSE
 * on `/graphql`, graphql-sse's distinct connections and its single-connection mode — joins its
 * subscribers here, so one group per (tenant, task, document, variables, operation name) executes
 * each update once for all of them, whatever their framing.
 */
export class StreamHub {
  readonly #groups = new Map<string, StreamGroup>();
  readonly #deps: GroupDeps;

  constructor(deps: GroupDeps) {
    this.#deps = deps;
  }

  /**
   * Joins `subscriber` to the spec's group. Resolves to its `leave` function, or null when the
   * task is not the tenant's (the adapter then lets Yoga answer NOT_FOUND as it would).
   */
  join(spec: StreamSpec, subscriber: Subscriber): Promise<(() => void) | null> {
    let group = this.#groups.get(spec.key);
    if (!group) {
      group = new StreamGroup(spec, this.#deps, (empty) => {
        if (this.#groups.get(spec.key) === empty) this.#groups.delete(spec.key);
      });
      this.#groups.set(spec.key, group);
    }
    return group.join(subscriber);
  }

  /** Groups with at least one member or a join under way (for tests and metrics). */
  get groupCount(): number {
    return this.#groups.size;
  }
}
