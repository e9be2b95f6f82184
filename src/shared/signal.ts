/**
 * A notice one part gives and others hear, made before all of them, so that none needs another
 * to exist first: the ledger tells the webhook dispatcher that delivery rows were queued, while
 * the dispatcher renders bodies with services that hold the ledger (src/gateway/parts.ts).
 */
export class Signal {
  readonly #listeners = new Set<() => void>();

  /** Tells every listener now. */
  notify(): void {
    for (const listener of this.#listeners) listener();
  }

  /** `listener` hears every notice until the answer is called. */
  listen(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }
}
