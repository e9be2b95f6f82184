import type { CreateRecord, EngineStats, KeyStats } from './types.js';

/**
 * Counting what reached the engine, so tests can assert the gateway's behaviour from the outside
 * (how often it retried, polled, downloaded) without instrumenting the gateway itself.
 */
export class StatsRecorder {
  private stats: EngineStats = StatsRecorder.empty();

  private static empty(): EngineStats {
    return {
      creates: 0,
      createAttempts: 0,
      segmentations: 0,
      segmentationAttempts: 0,
      polls: 0,
      pollsByTask: {},
      rateLimited: 0,
      byKey: {},
      resultFetches: {},
      creates_log: [],
    };
  }

  /** A deep copy, so a test's snapshot does not move under later requests. */
  snapshot(): EngineStats {
    return structuredClone(this.stats);
  }

  /** Starts counting from zero. */
  reset(): void {
    this.stats = StatsRecorder.empty();
  }

  /** Any POST to the create endpoint. */
  createAttempt(): void {
    this.stats.createAttempts++;
  }

  /** Any POST to the segmentation endpoint. */
  segmentationAttempt(): void {
    this.stats.segmentationAttempts++;
  }

  /** A background removal answered with a cutout. */
  segmentationDone(): void {
    this.stats.segmentations++;
  }

  /** A create body that could be parsed, whether or not it was then accepted. */
  createParsed(record: CreateRecord): void {
    this.stats.lastCreate = record;
  }

  /** A create answered 200 with a task id. */
  createAccepted(taskId: string, record: CreateRecord, apiKey: string): void {
    this.stats.creates++;
    this.#ofKey(apiKey).creates++;
    this.stats.creates_log.push({ taskId, fields: { ...record.fields }, hadFile: record.hadFile });
  }

  /** Any GET of a task. */
  poll(taskId: string): void {
    this.stats.polls++;
    this.stats.pollsByTask[taskId] = (this.stats.pollsByTask[taskId] ?? 0) + 1;
  }

  /** A poll that passed the key check, counted for its key. */
  keyPolled(apiKey: string): void {
    this.#ofKey(apiKey).polls++;
  }

  /** A 429 from the QPS limit. */
  rateLimited(apiKey: string): void {
    this.stats.rateLimited++;
    this.#ofKey(apiKey).rateLimited++;
  }

  #ofKey(apiKey: string): KeyStats {
    this.stats.byKey[apiKey] ??= { creates: 0, polls: 0, rateLimited: 0 };
    return this.stats.byKey[apiKey];
  }

  /** Any GET of a result image path. */
  resultFetch(path: string): void {
    this.stats.resultFetches[path] = (this.stats.resultFetches[path] ?? 0) + 1;
  }
}
