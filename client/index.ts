import { createClient as createSseClient } from 'graphql-sse';
import { GatewayError, withKitFields } from './errors.js';
import { type FollowOptions, followTask, type Task } from './follow.js';
import {
  type BackgroundTaskState,
  KitCancelDocument,
  KitGenerateDocument,
  KitRemoveDocument,
  KitSceneTypesDocument,
  type KitSceneTypesQuery,
  KitTaskDocument,
  KitTasksDocument,
} from './generated/graphql.js';
import { type GatewayConnection, gatewayFetch, sendOperation, streamUrl } from './http.js';

export { GatewayError, type GatewayErrorCode, type InputProblem } from './errors.js';
export { FINAL_STATES, type FollowOptions, isFinal, type Task } from './follow.js';
export type { BackgroundTaskStage, BackgroundTaskState } from './generated/graphql.js';

/**
 * Exactly one of a prompt or a template id. The schema's `BackgroundSpec` is a plain input object
 * (the gateway checks the rule itself: docs/errors.md, "The exactly-one rule"), so the kit states
 * the rule in its own type and a mistake shows at compile time.
 */
export type BackgroundSpec =
  | { readonly prompt: string; readonly sceneType?: never }
  | { readonly prompt?: never; readonly sceneType: number };
export type { GatewayConnection, TokenSource } from './http.js';

/** A template from `sceneTypes`, for pickers. */
export type SceneType = KitSceneTypesQuery['sceneTypes'][number];

/** What `generate` needs: the foreground (a File/Blob, or an http(s) URL) and the background. */
export interface GenerateInput {
  /**
   * A transparent PNG — or, with `removeBackground`, a JPEG, PNG or WebP photo. A File or Blob is
   * uploaded; a string or URL is fetched (and checked) by the gateway.
   */
  readonly image: Blob | string | URL;
  /**
   * The image is a photo with its background: PicWish removes it first (the task's `stage` is
   * CUTOUT, then GENERATING). @default false
   */
  readonly removeBackground?: boolean;
  /** Exactly one of `{ prompt }` or `{ sceneType }` (see `sceneTypes()`). */
  readonly background: BackgroundSpec;
  /** @default 2 */
  readonly batchSize?: number;
  readonly negativePrompt?: string;
  /** The same key and input within 24 hours returns the same task and spends nothing. */
  readonly idempotencyKey?: string;
  /** Fail with DEADLINE_EXCEEDED if not sent to PicWish within this many seconds. */
  readonly deadlineSeconds?: number;
}

/** A page of the caller's tasks, newest first. */
export interface TaskPage {
  readonly tasks: Task[];
  /** Pass as `after` for the next page; null on the last one. */
  readonly endCursor: string | null;
  readonly hasNextPage: boolean;
}

/** The gateway as a handful of methods; see `createGatewayClient`. */
export interface GatewayClient {
  /**
   * Creates a task and follows it live; resolves with the task once it is final (SUCCEEDED, FAILED
   * or CANCELLED). A refused input rejects with every problem, fields named as in `GenerateInput`.
   */
  generate(input: GenerateInput, options?: FollowOptions): Promise<Task>;
  /** Follows an existing task live until it is final. */
  follow(id: string, options?: FollowOptions): Promise<Task>;
  /** The task now, or null if there is none (or it is another tenant's). */
  task(id: string): Promise<Task | null>;
  /** The caller's tasks, newest first. */
  tasks(options?: { first?: number; after?: string; state?: BackgroundTaskState }): Promise<TaskPage>;
  /** Cancels an unfinished task; a finished one comes back unchanged; null if there is none. */
  cancel(id: string): Promise<Task | null>;
  /** Deletes a task and its images; false if there was none. */
  remove(id: string): Promise<boolean>;
  /** The gateway's template catalogue. */
  sceneTypes(): Promise<SceneType[]>;
  /** Closes the live-stream client (open streams end). */
  dispose(): void;
}

/**
 * The whole gateway for a frontend in one object: uploads, live progress with reconnects, the
 * task list and cancellation, typed from the schema and with every refusal as a GatewayError.
 * Needs nothing but `fetch` and graphql-sse; works in browsers and in Node 20+.
 */
export function createGatewayClient(connection: GatewayConnection): GatewayClient {
  // One fetch for requests and streams: the token on each, renewed once when it expired.
  const doFetch = gatewayFetch(connection);
  const sse = createSseClient({
    url: streamUrl(connection.url),
    fetchFn: doFetch,
    // followTask reconnects itself, resuming from the snapshot each stream starts with.
    retryAttempts: 0,
  });
  const http = { url: connection.url, fetch: doFetch };

  const client: GatewayClient = {
    async generate(input, options = {}) {
      const { image, ...rest } = input;
      const isFile = typeof image !== 'string' && !(image instanceof URL);
      const source = isFile ? { file: image } : { url: String(image) };
      const created = await sendOperation(
        http,
        KitGenerateDocument,
        { input: { ...rest, image: source } },
        {
          ...(isFile ? { upload: { path: 'input.image.file', file: image } } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        },
      ).catch((error: unknown) => {
        throw error instanceof GatewayError ? withKitFields(error) : error;
      });
      options.onUpdate?.(created.generateBackground);
      return client.follow(created.generateBackground.id, options);
    },
    follow: (id, options) => followTask(sse, id, options),
    async task(id) {
      return (await sendOperation(http, KitTaskDocument, { id })).backgroundTask ?? null;
    },
    async tasks(options = {}) {
      const { backgroundTasks } = await sendOperation(http, KitTasksDocument, {
        first: options.first ?? 20,
        after: options.after ?? null,
        state: options.state ?? null,
      });
      return {
        tasks: backgroundTasks.edges.map((edge) => edge.node),
        endCursor: backgroundTasks.pageInfo.endCursor ?? null,
        hasNextPage: backgroundTasks.pageInfo.hasNextPage,
      };
    },
    async cancel(id) {
      return (await sendOperation(http, KitCancelDocument, { id })).cancelBackgroundTask ?? null;
    },
    async remove(id) {
      return (await sendOperation(http, KitRemoveDocument, { id })).deleteBackgroundTask;
    },
    async sceneTypes() {
      return (await sendOperation(http, KitSceneTypesDocument, {})).sceneTypes;
    },
    dispose: () => sse.dispose(),
  };
  return client;
}
