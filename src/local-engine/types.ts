/**
 * The local engine's public shapes live apart from its implementation so the gateway and the tests
 * can depend on them without pulling in the HTTP server or sharp. Fault switches and call counts
 * are the tests' (test/support/picwish-double.ts, a proxy in front of the engine), not the engine's.
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
  /**
   * The engine's clock in epoch milliseconds: task progress, result expiry and the QPS window read
   * it, so a test can move time by hand instead of sleeping through it.
   * @default Date.now
   */
  clock?: () => number;
}

/** A running engine: where to reach it and how to stop it. */
export interface LocalEngine {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:PORT. */
  readonly url: string;
  readonly apiKey: string;
  /** `apiKey` first, then `extraApiKeys`. */
  readonly apiKeys: readonly string[];
  /** Stops listening, drops every connection (keep-alive and hung ones) and waits for running work. */
  close(): Promise<void>;
}
