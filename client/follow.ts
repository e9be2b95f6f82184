import type { Client as SseClient } from 'graphql-sse';
import { errorFromGraphQL, GatewayError, networkError } from './errors.js';
import { KitFollowDocument, type KitTaskFieldsFragment } from './generated/graphql.js';

/** A task as the kit reports it: every field the kit's operations select. */
export type Task = KitTaskFieldsFragment;

/** The states after which nothing changes any more. */
export const FINAL_STATES: ReadonlySet<Task['state']> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

/** Whether a task has reached SUCCEEDED, FAILED or CANCELLED. */
export function isFinal(task: Pick<Task, 'state'>): boolean {
  return FINAL_STATES.has(task.state);
}

/** How `follow` keeps a task in view. */
export interface FollowOptions {
  /** Called with the task at the start of every stream (a snapshot) and on each change. */
  readonly onUpdate?: (task: Task) => void;
  /** Stops following (the task itself goes on; use `cancel` to stop it). Rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * How many streams in a row may drop without a single update before following gives up.
   * @default 5
   */
  readonly maxReconnects?: number;
  /**
   * The wait before the first reconnect; it doubles with each further drop in a row, up to 8 s.
   * @default 250
   */
  readonly reconnectDelayMs?: number;
}

type StreamEnd = { kind: 'final'; task: Task } | { kind: 'dropped'; error: unknown; sawUpdate: boolean };

function abortable(
  signal: AbortSignal | undefined,
  wait: (resolve: () => void) => () => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      stop();
      reject(signal?.reason);
    };
    const stop = wait(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** One graphql-sse stream of the task until it completes, errors or drops. */
function streamOnce(sse: SseClient, id: string, options: FollowOptions): Promise<StreamEnd> {
  return new Promise<StreamEnd>((resolve, reject) => {
    let last: Task | null = null;
    let sawUpdate = false;
    let settled = false;
    /** `ended`: graphql-sse has finished the stream itself, and a refusal's body must stay readable. */
    const settle = (end: () => void, ended = false) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      // graphql-sse calls the sink from inside its own loop; dispose once that loop has moved on.
      if (!ended) queueMicrotask(() => dispose());
      end();
    };
    const onAbort = () => settle(() => reject(options.signal?.reason));
    const dispose = sse.subscribe<{ backgroundTaskUpdated: Task }>(
      { query: KitFollowDocument.toString(), variables: { id } },
      {
        next(result) {
          if (result.errors?.length) return settle(() => reject(errorFromGraphQL(result.errors ?? [], 200)));
          const task = result.data?.backgroundTaskUpdated;
          if (!task) return;
          last = task;
          sawUpdate = true;
          options.onUpdate?.(task);
          if (isFinal(task)) settle(() => resolve({ kind: 'final', task }));
        },
        error(error) {
          settle(() => resolve({ kind: 'dropped', error, sawUpdate }), true);
        },
        complete() {
          const end = last;
          settle(
            () =>
              resolve(
                end && isFinal(end)
                  ? { kind: 'final', task: end }
                  : { kind: 'dropped', error: null, sawUpdate },
              ),
            true,
          );
        },
      },
    );
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The response of a graphql-sse NetworkError, if it had one. */
function refusal(error: unknown): Response | null {
  const response = (error as { response?: Partial<Response> } | null)?.response;
  return typeof response?.status === 'number' && typeof response.json === 'function'
    ? (response as Response)
    : null;
}

/** A refused stream as a GatewayError: the gateway's own error when its body is GraphQL, else the status. */
async function refusedStream(response: Response, cause: unknown): Promise<GatewayError> {
  const { status } = response;
  try {
    const body = (await response.json()) as { errors?: unknown };
    if (Array.isArray(body.errors) && body.errors.length > 0) return errorFromGraphQL(body.errors, status);
  } catch {
    // Not a GraphQL answer: the status is all there is.
  }
  return new GatewayError(`The gateway refused the live stream (HTTP ${status}).`, {
    code: status === 401 ? 'UNAUTHENTICATED' : 'BAD_REQUEST',
    status,
    cause,
  });
}

/**
 * Follows a task over graphql-sse until it is final and returns it. Each stream starts with the
 * task as it is now, so after a dropped stream the kit simply opens a new one and loses nothing;
 * it gives up after `maxReconnects` drops in a row without an update. A refusal (NOT_FOUND, a bad
 * key, a token that is invalid or still expired after one renewal) rejects at once with a GatewayError.
 */
export async function followTask(sse: SseClient, id: string, options: FollowOptions = {}): Promise<Task> {
  const maxReconnects = options.maxReconnects ?? 5;
  const baseDelay = options.reconnectDelayMs ?? 250;
  let drops = 0;
  for (;;) {
    const end = await streamOnce(sse, id, options);
    if (end.kind === 'final') return end.task;
    // An expired token was already renewed once by the kit's fetch; a refusal now is final.
    const refused = refusal(end.error);
    if (refused && refused.status >= 400 && refused.status < 500)
      throw await refusedStream(refused, end.error);
    drops = end.sawUpdate ? 1 : drops + 1;
    if (drops > maxReconnects) {
      throw networkError('The live stream kept dropping before the task finished.', end.error);
    }
    const delay = Math.min(baseDelay * 2 ** (drops - 1), 8_000);
    await abortable(options.signal, (resolve) => {
      const timer = setTimeout(resolve, delay);
      return () => clearTimeout(timer);
    });
  }
}
