// Over 300 lines on purpose: a batch's creation (reservation of its key, preparing items in
// parallel, creating them in order under the tenant's lock, replay) is one transaction-like flow.
import { createHash, randomUUID } from 'node:crypto';
import { err, ok, type Result } from '../shared/result.js';
import { type Caller, canSee } from './caller.js';
import { badInput, type GatewayError } from './errors.js';
import type { ImageInput } from './foreground.js';
import { isTerminal, type Task, type TaskState } from './model.js';
import type { TaskService } from './service.js';
import { IDEMPOTENCY_WINDOW_MS, IdempotencyConflictError, type OwnerScope, type TaskStore } from './store.js';
import { type GenerateParams, MAX_IDEMPOTENCY_KEY_LENGTH } from './validation.js';

/**
 * Batches (issue #15): many inputs under one handle, like Shopify's bulk operations. A batch is
 * a thin record over ordinary tasks — each item is created exactly as `generateBackground` creates
 * one, with the same checks, the same problems and the same limits, counted per item — so
 * everything that drives, shows or cleans up tasks works for batch items unchanged.
 *
 * About 300 lines, in one file: the record, its store port, the counts and the service that keeps
 * them consistent change together (the live side is batch-feeds.ts).
 */

/** `generateBackgrounds` takes 1 to this many inputs. */
export const MAX_BATCH_ITEMS = 50;

/** One input of a batch, as the schema hands it over. */
export interface BatchInput {
  readonly image: ImageInput;
  readonly params: GenerateParams;
  /**
   * Called once the item is done with its upload, whether it was read or not. The files of a
   * multipart request arrive one after the other, so an unread file would hold back the rest.
   */
  readonly release?: () => void;
}

/** What became of one input: its task, or why it was refused. */
export type BatchItem = { readonly taskId: string } | { readonly refusal: GatewayError };

/** The stored batch. `items` is null only while the batch is being created (see `generate`). */
export interface Batch {
  readonly id: string;
  readonly tenantId: string;
  /** The end user (session subject) that made the batch; null for a server key (#23). */
  readonly subject?: string | null;
  readonly createdAt: number;
  readonly idempotencyKey: string | null;
  /** Hash of the inputs, to tell a replay from a key reused for another batch. */
  readonly inputHash: string;
  readonly items: readonly BatchItem[] | null;
}

/** A batch whose items were recorded: the only kind anybody but its creator sees. */
export type FilledBatch = Batch & { readonly items: readonly BatchItem[] };

/**
 * Where batches live: beside the tasks, in the same store (SQLite or PostgreSQL). `insertBatch`
 * throws `IdempotencyConflictError` when another batch of the tenant holds the key within the
 * window — a shared store sees the race of two instances there, under the tenant's lock.
 */
export interface BatchStore {
  insertBatch(batch: Batch): Promise<void>;
  /** Records the items of a batch inserted with `items: null`. */
  fillBatch(id: string, items: readonly BatchItem[]): Promise<void>;
  getBatch(id: string): Promise<Batch | null>;
  /** The batch made by exactly this owner (subject null: a server key) with `key` since `since`. */
  findBatchByIdempotencyKey(owner: OwnerScope, key: string, since: number): Promise<Batch | null>;
  /** Removes batches created before `before` (the retention sweep, after their tasks); returns how many. */
  deleteBatchesBefore(before: number): Promise<number>;
}

/** A batch with the tasks of its accepted items as they are now (deleted ones left out). */
export interface BatchView {
  readonly batch: FilledBatch;
  readonly tasks: readonly Task[];
}

/** The answer for one input, at its index. */
export interface BatchItemResult {
  readonly index: number;
  readonly task: Task | null;
  readonly refusal: GatewayError | null;
}

/** What `generateBackgrounds` answers. */
export interface BatchOutcome {
  readonly view: BatchView;
  readonly results: readonly BatchItemResult[];
}

/** How many items stand where; `deleted` are accepted items whose task was deleted since. */
export interface BatchCounts {
  readonly total: number;
  readonly accepted: number;
  readonly refused: number;
  readonly deleted: number;
  readonly byState: Readonly<Record<TaskState, number>>;
}

/** Counts a batch's items by what became of them and by their tasks' states now. */
export function batchCounts(view: BatchView): BatchCounts {
  const byState: Record<TaskState, number> = {
    QUEUED: 0,
    PROCESSING: 0,
    SUCCEEDED: 0,
    FAILED: 0,
    CANCELLED: 0,
  };
  for (const task of view.tasks) byState[task.state] += 1;
  const accepted = view.batch.items.filter((item) => 'taskId' in item).length;
  return {
    total: view.batch.items.length,
    accepted,
    refused: view.batch.items.length - accepted,
    deleted: accepted - view.tasks.length,
    byState,
  };
}

/** True once no accepted item can change any more: each task is final or deleted. */
export function isBatchDone(view: BatchView): boolean {
  return view.tasks.every((task) => isTerminal(task.state));
}

/**
 * Creates and reads batches. Every call names the tenant: another tenant's batch is not there.
 *
 * Idempotency mirrors the single mutation's: the batch's own `idempotencyKey` replays the whole
 * batch (the same tasks and the same problems, nothing spent) for 24 hours, and refuses the key
 * for different inputs; each input's own `idempotencyKey` still replays that one task.
 */
export class BatchService {
  constructor(
    private readonly tasks: TaskService,
    private readonly store: BatchStore,
    private readonly taskStore: Pick<TaskStore, 'get'>,
  ) {}

  /**
   * Checks every input and spools every image at once (the files of one request arrive in order,
   * and each item reads its own as it comes), then, as the tenant's one creation under way,
   * creates the accepted items in order — each against the limits, so a batch of 20 uses 20 —
   * and records the batch. One bad item never sinks the others.
   */
  async generate(
    caller: Caller,
    inputs: readonly BatchInput[],
    idempotencyKey: string | null,
  ): Promise<Result<BatchOutcome, GatewayError>> {
    const refused = checkBatch(inputs.length, idempotencyKey);
    if (refused) {
      for (const input of inputs) input.release?.();
      return err(refused);
    }
    const id = randomUUID();
    const owner = { tenantId: caller.tenantId, subject: caller.subject };
    // A replay must spend nothing and must not be refused by the limits its original used up.
    const earlierBatch =
      idempotencyKey === null
        ? null
        : await this.store.findBatchByIdempotencyKey(
            caller,
            idempotencyKey,
            Date.now() - IDEMPOTENCY_WINDOW_MS,
          );
    // Another number of inputs cannot be a replay: refused before any input is read or fetched.
    if (earlierBatch?.items && earlierBatch.items.length !== inputs.length) {
      for (const input of inputs) input.release?.();
      return err(batchKeyReused());
    }
    const likelyReplay = earlierBatch !== null;
    const settled = await Promise.allSettled(
      inputs.map(async (input) => {
        try {
          return await this.tasks.prepare(caller, input.image, input.params, {
            batchId: id,
            earlyLimitCheck: !likelyReplay,
          });
        } finally {
          input.release?.();
        }
      }),
    );
    const failed = settled.find((each) => each.status === 'rejected');
    if (failed) {
      // The store failed under one item: the others' uploads would have no task to remove them.
      for (const each of settled) {
        if (each.status === 'fulfilled' && each.value.ok) await this.tasks.discard(each.value.value);
      }
      throw failed.reason;
    }
    const prepared = settled.map(
      (each) => (each as PromiseFulfilledResult<Result<Task, GatewayError>>).value,
    );
    const inputHash = createHash('sha256')
      .update(
        JSON.stringify(
          inputs.map((input, index) => {
            const item = prepared[index];
            return {
              params: input.params,
              url: input.image.url ?? null,
              file: Boolean(input.image.file),
              fit: input.image.fit ?? true,
              checked: item?.ok ? item.value.inputHash : null,
            };
          }),
        ),
      )
      .digest('hex');
    const createdAt = Date.now();
    let next = 0;
    const discardRest = async () => {
      for (; next < prepared.length; next += 1) {
        const item = prepared[next];
        if (item?.ok) await this.tasks.discard(item.value);
      }
    };
    try {
      return await this.tasks.creating(caller, async (create) => {
        const earlier =
          idempotencyKey === null
            ? null
            : await this.store.findBatchByIdempotencyKey(
                caller,
                idempotencyKey,
                createdAt - IDEMPOTENCY_WINDOW_MS,
              );
        if (earlier) return this.#replay(earlier, inputHash);
        // Reserved under the key before any task exists, so two instances racing with the same
        // key cannot both create the items.
        try {
          await this.store.insertBatch({ ...owner, id, createdAt, idempotencyKey, inputHash, items: null });
        } catch (error) {
          if (!(error instanceof IdempotencyConflictError)) throw error;
          const other = await this.store.getBatch(error.existingId);
          return other ? this.#replay(other, inputHash) : err(inProgress());
        }
        const items: BatchItem[] = [];
        const results: BatchItemResult[] = [];
        for (; next < prepared.length; next += 1) {
          const item = prepared[next] as Result<Task, GatewayError>;
          const answer = item.ok ? await create(item.value) : item;
          items.push(answer.ok ? { taskId: answer.value.id } : { refusal: answer.error });
          results.push({
            index: next,
            task: answer.ok ? answer.value : null,
            refusal: answer.ok ? null : answer.error,
          });
        }
        await this.store.fillBatch(id, items);
        const batch: FilledBatch = { ...owner, id, createdAt, idempotencyKey, inputHash, items };
        const tasks = results.flatMap((result) => (result.task ? [result.task] : []));
        return ok({ view: { batch, tasks }, results });
      });
    } finally {
      // Whatever was not handed to `create` (a replay, a refusal of the key, a store failure).
      await discardRest();
    }
  }

  /** The caller's batch with its tasks as they are now; null for a missing or foreign one. */
  async get(caller: Caller, id: string): Promise<BatchView | null> {
    const batch = await this.store.getBatch(id);
    if (!batch || !canSee(caller, batch) || batch.items === null) return null;
    return this.#view(batch as FilledBatch);
  }

  async #view(batch: FilledBatch): Promise<BatchView> {
    const tasks = await Promise.all(
      batch.items.map((item) => ('taskId' in item ? this.taskStore.get(item.taskId) : null)),
    );
    return { batch, tasks: tasks.filter((task): task is Task => task !== null) };
  }

  /** The answer of an earlier batch under the same key, or why the key cannot be replayed. */
  async #replay(earlier: Batch, inputHash: string): Promise<Result<BatchOutcome, GatewayError>> {
    if (earlier.inputHash !== inputHash) return err(batchKeyReused());
    if (earlier.items === null) return err(inProgress());
    const view = await this.#view(earlier as FilledBatch);
    const byId = new Map(view.tasks.map((task) => [task.id, task]));
    const results = earlier.items.map((item, index) =>
      'taskId' in item
        ? { index, task: byId.get(item.taskId) ?? null, refusal: null }
        : { index, task: null, refusal: item.refusal },
    );
    return ok({ view, results });
  }
}

/** The refusals of a whole batch: how many inputs, and the batch's own key. */
function checkBatch(count: number, key: string | null): GatewayError | null {
  if (count < 1 || count > MAX_BATCH_ITEMS) {
    return badInput(
      'INVALID_INPUT_COUNT',
      ['inputs'],
      `inputs takes 1 to ${MAX_BATCH_ITEMS} items; got ${count}.`,
    );
  }
  if (key !== null && (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH)) {
    return badInput(
      'IDEMPOTENCY_KEY_INVALID',
      ['idempotencyKey'],
      `idempotencyKey must have 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters.`,
    );
  }
  return null;
}

/** Another request is creating the batch this key names right now (another instance, or a crash). */
function inProgress(): GatewayError {
  return {
    kind: 'RATE_LIMITED',
    message: 'A batch with this idempotencyKey is still being created; retry shortly.',
    retryAfterSeconds: 1,
  };
}

function batchKeyReused(): GatewayError {
  return badInput(
    'IDEMPOTENCY_KEY_REUSED',
    ['idempotencyKey'],
    'This idempotencyKey was already used with different inputs in the last 24 hours.',
  );
}
