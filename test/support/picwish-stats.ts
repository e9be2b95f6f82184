/**
 * Counting what reached PicWish (the PicWish double's proxy sees every call), so tests assert the
 * gateway's behaviour from the outside (how often it retried, polled, downloaded) without
 * instrumenting the gateway or the engine.
 */

/** What one API key did (`EngineStats.byKey`). */
export interface KeyStats {
  creates: number;
  polls: number;
  rateLimited: number;
}

/** What a create carried, so tests can assert what the gateway forwarded. */
export interface CreateRecord {
  fields: Record<string, string>;
  hadFile: boolean;
  fileBytes?: number;
}

/** Counters that let tests assert how the gateway used the upstream (retries, polling, downloads). */
export interface EngineStats {
  /** Accepted creates (answered 200 with a task id). */
  creates: number;
  /** All POSTs to the create endpoint, faulted and rejected ones included. */
  createAttempts: number;
  /** Background removals answered with a cutout (what PicWish charges for, #14). */
  segmentations: number;
  /** All POSTs to the segmentation endpoint, faulted and rejected ones included. */
  segmentationAttempts: number;
  /** All GETs of a task, faulted and rejected ones included. */
  polls: number;
  pollsByTask: Record<string, number>;
  /** 429s answered by the engine's QPS limit (not by injected faults). */
  rateLimited: number;
  /** Accepted creates, polls and QPS 429s per API key (the key as sent), for key-pool tests. */
  byKey: Record<string, KeyStats>;
  /** Per result image path (e.g. /results/<id>.png), how often it was requested. */
  resultFetches: Record<string, number>;
  /** The last create whose body the engine parsed, accepted or not. */
  lastCreate?: CreateRecord;
  /** Every accepted create, in order. */
  creates_log: Array<{ taskId: string; fields: Record<string, string>; hadFile: boolean }>;
}

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

  /** A create body the engine parsed, whether or not it then accepted it. */
  createParsed(record: CreateRecord): void {
    this.stats.lastCreate = record;
  }

  /** A create answered 200 with a task id. */
  createAccepted(taskId: string, record: CreateRecord | undefined, apiKey: string): void {
    this.stats.creates++;
    this.#ofKey(apiKey).creates++;
    this.stats.creates_log.push({ taskId, fields: { ...record?.fields }, hadFile: record?.hadFile ?? false });
  }

  /** Any GET of a task. */
  poll(taskId: string): void {
    this.stats.polls++;
    this.stats.pollsByTask[taskId] = (this.stats.pollsByTask[taskId] ?? 0) + 1;
  }

  /** A poll that passed the key check and the QPS limit, counted for its key. */
  keyPolled(apiKey: string): void {
    this.#ofKey(apiKey).polls++;
  }

  /** A 429 from the engine's QPS limit. */
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
