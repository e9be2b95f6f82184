import { BatchGroup, type BatchGroupDeps, type BatchStreamSpec } from './batch-group.js';
import { type GroupDeps, StreamGroup, type StreamSpec, type Subscriber } from './stream-group.js';

/**
 * The protocol core of the live streams (PROTOCOL.md): every transport — Yoga's SSE and Apollo's
 * multipart on `/graphql`, graphql-sse's distinct connections and its single-connection mode —
 * joins its subscribers here, so one group per (caller, task or batch, document, variables,
 * operation name) executes each update once for all of them, whatever their framing.
 */
export class StreamHub {
  readonly #groups = new Map<string, StreamGroup | BatchGroup>();
  readonly #deps: GroupDeps & BatchGroupDeps;

  constructor(deps: GroupDeps & BatchGroupDeps) {
    this.#deps = deps;
  }

  /**
   * Joins `subscriber` to the spec's group. Resolves to its `leave` function, or null when the
   * caller may not follow the task or batch (the transport then lets Yoga answer NOT_FOUND).
   */
  join(spec: StreamSpec | BatchStreamSpec, subscriber: Subscriber): Promise<(() => void) | null> {
    let group = this.#groups.get(spec.key);
    if (!group) {
      const onEmpty = (empty: StreamGroup | BatchGroup) => {
        if (this.#groups.get(spec.key) === empty) this.#groups.delete(spec.key);
      };
      group =
        'batchId' in spec
          ? new BatchGroup(spec, this.#deps, onEmpty)
          : new StreamGroup(spec, this.#deps, onEmpty);
      this.#groups.set(spec.key, group);
    }
    return group.join(subscriber);
  }

  /** Groups with at least one member or a join under way (for tests and metrics). */
  get groupCount(): number {
    return this.#groups.size;
  }
}
