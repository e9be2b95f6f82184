/**
 * The local engine's public shapes live apart from its implementation so the gateway and the tests
 * can depend on them without pulling in the HTTP server or sharp.
 */

/** One template of the scene_type catalogue; its words steer the backdrop like a prompt would. */
export interface SceneTypeInfo {
  id: number;
  name: string;
  description?: string | null;
}

/** How a caller tunes the engine: timing, result delivery and limits mirror PicWish's knobs. */
export interface LocalEngineOptions {
  /** Interface to bind; loopback by default because the engine is a local test double. */
  host?: string;
  /**
   * A `host` that is not loopback is refused unless this is true: whoever reaches the port could
   * use the engine, which is meant only for the gateway beside it. @default false
   */
  allowNonLoopbackHost?: boolean;
  /** 0 picks a free port, so parallel test files never collide. */
  port?: number;
  /** The X-API-KEY value demanded; a random key by default so nothing works by accident. */
  apiKey?: string;
  /**
   * More keys it accepts besides `apiKey`, like a PicWish account with several: each has its own
   * QPS window, and a task answers polls only with the key that created it (as at PicWish).
   */
  extraApiKeys?: readonly string[];
  /** Templates it understands; an unknown or absent id gets a neutral studio backdrop. */
  sceneTypes?: readonly SceneTypeInfo[];
  /** Time from create to terminal state; the task walks 0 -> 2 -> 3 -> 4 -> terminal across it. */
  durationMs?: number;
  /** Whether image_1/image_2 are URLs served by the engine or plain base64 PNG data. */
  returnType?: 'url' | 'base64';
  /** Result URLs answer 404 this long after completion, like PicWish's one-hour expiry. */
  resultTtlMs?: number;
  /** Strict per-key limit on /api/ calls (creates and polls) over a sliding second; null is unlimited. */
  qps?: number | null;
  /** Caps simultaneous renders so a burst of creates cannot starve the event loop. */
  maxConcurrentRenders?: number;
}

/** What one API key did (`EngineStats.byKey`). */
export interface KeyStats {
  creates: number;
  polls: number;
  rateLimited: number;
}

/** What the last create carried, so tests can assert what the gateway forwarded. */
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
  /** 429s answered by the QPS limit (not by injected faults). */
  rateLimited: number;
  /** Accepted creates, polls and QPS 429s per API key (the key as sent), for key-pool tests. */
  byKey: Record<string, KeyStats>;
  /** Per result image path (e.g. /results/<id>.png), how often it was requested. */
  resultFetches: Record<string, number>;
  /** The last create whose body could be parsed, accepted or not. */
  lastCreate?: CreateRecord;
  /** Every accepted create, in order. */
  creates_log: Array<{ taskId: string; fields: Record<string, string>; hadFile: boolean }>;
}

/** An error answer with PicWish's JSON body `{status, message}` and the same HTTP status. */
export interface StatusFault {
  kind?: 'status';
  status: 400 | 401 | 413 | 429 | 500 | 502 | 503;
  message?: string;
  /** Sent as a Retry-After header, to test that the gateway honours it. */
  retryAfterSeconds?: number;
}

/** An HTML error page, as a proxy or load balancer in front of PicWish would answer. */
export interface HtmlFault {
  kind: 'html';
  /** Default 502. */
  status?: number;
}

/** Never answers; the socket stays open until the engine closes. */
export interface HangFault {
  kind: 'hang';
}

/** Destroys the socket without an answer. */
export interface ResetFault {
  kind: 'reset';
}

/** A misbehaviour injected into the next create. */
export type CreateFault = StatusFault | HtmlFault | HangFault | ResetFault;

/** A misbehaviour injected into the next poll; the same shapes as for creates. */
export type PollFault = CreateFault;

/** Mutable switches for the gateway's fault tests; each takes effect on the next request. */
export interface FaultSwitches {
  /** Consumed one per create, before authentication; a faulted create creates nothing. */
  createFaults: CreateFault[];
  /** Consumed one per poll (GET of a task), before authentication. */
  pollFaults: PollFault[];
  /** Consumed one per background removal (POST to the segmentation endpoint), before authentication. */
  segmentationFaults: CreateFault[];
  /** Consumed one per accepted create: that task ends in this state (-1, -2, -3, -5, -7, -8) instead of success. */
  nextTaskStates: number[];
  /** While on, accepted tasks stay at state 4 forever (for deadline tests). */
  acceptCreatesWithoutProcessing?: boolean;
}

/** A running engine: where to reach it, how to inspect it, and how to stop it. */
export interface LocalEngine {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:PORT. */
  readonly url: string;
  readonly apiKey: string;
  /** `apiKey` first, then `extraApiKeys`. */
  readonly apiKeys: readonly string[];
  /** A snapshot; later requests do not change it. */
  stats(): EngineStats;
  resetStats(): void;
  readonly faults: FaultSwitches;
  /** Stops listening, drops every connection (keep-alive and hung ones) and waits for running work. */
  close(): Promise<void>;
}
