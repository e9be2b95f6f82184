// Over 300 lines on purpose: TaskService is the one door to tasks (create, read, list, usage,
// cancel, delete) and the caller checks every door needs stay side by side in it.
import { createHash, randomUUID } from 'node:crypto';
import type { GuardedFetcher } from '../outbound/index.js';
import { type BlobStore, taskBlobPrefix } from '../results/blob-store.js';
import { err, ok, type Result } from '../shared/result.js';
import { type Caller, canSee, requireServerScope, subjectFilter } from './caller.js';
import { heldUnits } from './credits.js';
import { badInput, type GatewayError } from './errors.js';
import { type ImageGates, type ImageInput, spoolForeground, withImageProblems } from './foreground.js';
import type { TaskLedger } from './ledger.js';
import { isTerminal, newQueuedTask, type Task, type TaskState } from './model.js';
import { IDEMPOTENCY_WINDOW_MS, IdempotencyConflictError, type TaskPage } from './store.js';
import type { TaskDriver } from './task-driver.js';
import { TenantLimitError, type TenantLimiter, type TenantStanding } from './tenant-limits.js';
import type { UploadSpool } from './upload-spool.js';
import { type TaskUsage, type UsagePeriod, usagePeriod } from './usage.js';
import {
  type GenerateParams,
  IMAGE_FIELDS,
  type ValidParams,
  validateHttpUrl,
  validateParams,
  WEBHOOK_FIELDS,
} from './validation.js';

/** Settings the service needs from the configuration, and where uploads wait. */
export interface TaskServiceOptions {
  readonly spool: UploadSpool;
  readonly taskDeadlineMs: number;
  /** Fetches image URLs, whose bytes are then spooled and checked like uploads (url-input.ts). */
  readonly imageUrls: Pick<GuardedFetcher, 'open'>;
  /**
   * Checks webhook URLs against the outbound address policy when a task is created (the dispatcher
   * checks again at every try).
   */
  readonly webhookUrls: Pick<GuardedFetcher, 'check'>;
  /** A tenant's `webhookUrl` for tasks that name none (`TENANT_WEBHOOK_URLS`). @default none */
  readonly defaultWebhookUrls?: Readonly<Record<string, string>>;
  /** Image decodes and URL fetches, shared fairly between tenants (#27). @default ungated */
  readonly gates?: ImageGates;
  /** Called once per task really created (not for an idempotent replay), for the metrics. */
  readonly onCreated?: (task: Task) => void;
}

/**
 * What the schema can do with tasks. Every call names the caller: a task of another tenant, or of
 * another end user for a session, is simply not there (null, false, NOT_FOUND), never
 * "forbidden", so its existence does not leak.
 */
export class TaskService {
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly ledger: TaskLedger,
    private readonly scheduler: TaskDriver,
    private readonly blobs: BlobStore,
    private readonly limiter: TenantLimiter,
    private readonly options: TaskServiceOptions,
  ) {}

  /**
   * Validates, stores the task as QUEUED and hands it to the scheduler; returns at once. The
   * image is checked (streamed to the spool, header and pixels inspected) before anything is
   * spent upstream. An idempotent replay returns the original task and sends nothing.
   */
  async generate(
    caller: Caller,
    image: ImageInput,
    params: GenerateParams,
  ): Promise<Result<Task, GatewayError>> {
    const prepared = await this.prepare(caller, image, params);
    if (!prepared.ok) return prepared;
    return this.creating(caller, (create) => create(prepared.value));
  }

  /**
   * The first half of a creation, shared by `generate` and batches (batches.ts): checks the
   * input, makes the cheap early limit check, streams the image into the spool and builds the
   * QUEUED task — without storing it (`earlyLimitCheck: false` skips the hint, for a batch that
   * is likely a replay). The task's upload is then the caller's until it hands the
   * task to `creating`'s `create` or to `discard`.
   */
  async prepare(
    caller: Caller,
    image: ImageInput,
    params: GenerateParams,
    options: { readonly batchId?: string; readonly earlyLimitCheck?: boolean } = {},
  ): Promise<Result<Task, GatewayError>> {
    // Where webhooks go is the tenant's choice, not an end user's: a session's tasks still get the
    // tenant's default webhook, but a session may not name one (#23).
    if ((params.webhookUrl ?? null) !== null || (params.webhookEvents ?? null) !== null) {
      const allowed = requireServerScope(caller, 'webhookUrl and webhookEvents');
      if (!allowed.ok) return allowed;
    }
    const { tenantId } = caller;
    const valid = validateParams(image, this.#withDefaultWebhook(tenantId, params));
    if (!valid.ok) {
      // Reading the upload to name its problems too is work: done only within the caller's
      // limits, and counted against them (#27).
      if (image.file == null || !(await this.limiter.admit(caller, NOTHING)).ok) return valid;
      const named = await withImageProblems(
        this.options,
        valid.error,
        image,
        params.removeBackground === true,
        tenantId,
      );
      await this.limiter.recordRefused(caller);
      return err(named);
    }
    const webhookChecked = await this.#checkWebhook(valid.value.webhook?.url ?? null);
    if (!webhookChecked.ok) return webhookChecked;
    if (image.file == null) {
      const checked = validateHttpUrl(image.url ?? '', IMAGE_FIELDS.url);
      if (!checked.ok) return checked;
    }
    // A cheap early refusal, before the upload is read. It is only a hint: parallel requests all
    // pass it together, so the binding check is made again under the tenant's lock below. An
    // idempotent replay skips it: returning the task it already made spends nothing.
    const earlier =
      valid.value.idempotencyKey === null
        ? null
        : await this.ledger.store.findByIdempotencyKey(
            caller,
            valid.value.idempotencyKey,
            Date.now() - IDEMPOTENCY_WINDOW_MS,
          );
    // Parameters that differ from the earlier task's make its input hash differ too: refused
    // before the image is read or fetched (a used key must not buy free fetches and decodes).
    if (earlier && !sameParams(earlier, valid.value)) return err(keyReused());
    const replay = earlier !== null;
    if (!replay && options.earlyLimitCheck !== false) {
      const estimate = { images: valid.value.batchSize, cutouts: valid.value.removeBackground ? 1 : 0 };
      const allowed = await this.limiter.admit(caller, estimate);
      if (!allowed.ok) return allowed;
    }

    const id = randomUUID();
    const spooled = await spoolForeground(this.options, id, image, valid.value.removeBackground, tenantId);
    if (!spooled.ok) {
      await this.limiter.recordRefused(caller);
      return spooled;
    }
    const source = spooled.value;

    const { idempotencyKey, deadlineSeconds, removeBackground, webhook, ...rest } = valid.value;
    // Options are hashed only when given, so a key's hash stays what it was before they existed.
    const inputHash = createHash('sha256')
      .update(
        JSON.stringify({
          image: source.sha256,
          ...rest,
          ...(removeBackground ? { removeBackground } : {}),
          ...(webhook ? { webhook } : {}),
        }),
      )
      .digest('hex');
    const now = Date.now();
    return ok(
      newQueuedTask({
        id,
        tenantId,
        subject: caller.subject,
        source,
        ...rest,
        webhook,
        cutout: removeBackground ? { status: 'waiting' } : null,
        createdAt: now,
        idempotencyKey,
        inputHash,
        startBy: deadlineSeconds === null ? null : now + deadlineSeconds * 1000,
        finishBy: now + this.options.taskDeadlineMs,
        // Chosen as it is created (`#create`), so a batch's items spread over the key pool.
        picwishKeyId: null,
        batchId: options.batchId ?? null,
        // Scheduling only, so not part of the idempotency hash.
        priority: params.priority ?? 'INTERACTIVE',
      }),
    );
  }

  /**
   * The second half: runs `work` as the tenant's one creation under way, so the limits are
   * checked against the store and the window as they are and a parallel burst cannot slip past
   * them together. `work` stores prepared tasks with `create`, each answered on its own: the new
   * task (handed to the scheduler), an idempotent replay's original, or a refusal (a limit); the
   * upload of a task that was not created is removed. A batch holds the lock for all its items.
   */
  creating<T>(
    caller: Caller,
    work: (create: (task: Task) => Promise<Result<Task, GatewayError>>) => Promise<T>,
  ): Promise<T> {
    // The tenant's lock, not the subject's: the tenant's limits bind its end users together.
    return this.#exclusive(caller.tenantId, () => work((task) => this.#create(task)));
  }

  /** Removes the upload of a prepared task that will not be created. */
  discard(task: Task): Promise<void> {
    return this.options.spool.discard(task.source);
  }

  async #create(task: Task): Promise<Result<Task, GatewayError>> {
    let created: Result<Task, GatewayError>;
    try {
      created = await this.#createOnce(
        { ...task, picwishKeyId: await this.scheduler.chooseKey() },
        task.idempotencyKey,
      );
    } catch (error) {
      // The store or the limiter failed: no task holds the upload, so nothing else would remove it.
      await this.options.spool.discard(task.source);
      throw error;
    }
    if (!created.ok || created.value.id !== task.id) {
      await this.options.spool.discard(task.source);
      return created;
    }
    this.options.onCreated?.(created.value);
    this.scheduler.track(created.value);
    return created;
  }

  /** The tenant's default webhook URL stands in for a `webhookUrl` the input does not give. */
  #withDefaultWebhook(tenantId: string, params: GenerateParams): GenerateParams {
    const fallback = this.options.defaultWebhookUrls?.[tenantId];
    return fallback && (params.webhookUrl ?? null) === null ? { ...params, webhookUrl: fallback } : params;
  }

  /** A webhook URL's address, checked before anything is read or spent (DNS included). */
  async #checkWebhook(url: string | null): Promise<Result<null, GatewayError>> {
    if (url === null) return ok(null);
    const checked = await this.options.webhookUrls.check(url);
    return checked.ok
      ? ok(null)
      : err(badInput(checked.error.reason, WEBHOOK_FIELDS.url, checked.error.message));
  }

  /** Replays an idempotent request, or checks the tenant's limits and creates; run under the lock. */
  async #createOnce(task: Task, key: string | null): Promise<Result<Task, GatewayError>> {
    const owner: Caller = { tenantId: task.tenantId, subject: task.subject ?? null };
    const earlier =
      key === null
        ? null
        : await this.ledger.store.findByIdempotencyKey(owner, key, task.createdAt - IDEMPOTENCY_WINDOW_MS);
    if (earlier) return earlier.inputHash === task.inputHash ? ok(earlier) : err(keyReused());
    const allowed = await this.limiter.admit(owner, heldUnits(task));
    if (!allowed.ok) return allowed;
    let created: Task;
    try {
      created = await this.ledger.create(task);
    } catch (error) {
      // Another gateway process created a task with this key meanwhile: answer as its replay.
      if (error instanceof IdempotencyConflictError) return this.#createOnce(task, key);
      // The store checked the limits again with the insert and another instance got there first.
      if (error instanceof TenantLimitError) return err(error.refusal);
      throw error;
    }
    this.limiter.record(owner);
    return ok(created);
  }

  /** Runs `work` alone for `key` within this process (the PostgreSQL store adds its own guard across instances). */
  async #exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(key) ?? Promise.resolve();
    const mine = previous.then(work, work);
    this.#locks.set(key, mine);
    try {
      return await mine;
    } finally {
      if (this.#locks.get(key) === mine) this.#locks.delete(key);
    }
  }

  /** Where the caller stands against its creation limits now (a session: its own end user's). */
  standing(caller: Caller): Promise<TenantStanding> {
    return this.limiter.standing(caller);
  }

  /** The task if it exists and the caller may see it (its tenant's, and a session's own). */
  async get(caller: Caller, id: string): Promise<Task | null> {
    const task = await this.ledger.store.get(id);
    return task && canSee(caller, task) ? task : null;
  }

  /**
   * The caller's tasks, newest first; a server key may narrow them to one end user (`subject`),
   * a session always sees only its own.
   */
  async list(
    caller: Caller,
    first: number,
    after: string | null,
    state: TaskState | null,
    subject: string | null = null,
  ): Promise<Result<TaskPage, GatewayError>> {
    if (!Number.isInteger(first) || first < 1 || first > 100) {
      return err(badInput('INVALID_PAGE_SIZE', ['first'], 'first must be between 1 and 100.'));
    }
    const scope = subjectFilter(caller, subject);
    const cursor = after === null ? null : await this.get(caller, after);
    if (after !== null && (!cursor || (scope !== null && cursor.subject !== scope))) {
      return err(badInput('INVALID_CURSOR', ['after'], 'The cursor does not name one of your tasks.'));
    }
    return ok(
      await this.ledger.store.listForTenant(caller.tenantId, { first, after, state, subject: scope }),
    );
  }

  /**
   * What the tenant's tasks created in the period (default: the last 24 hours) came to. Read from
   * the store, so deleted tasks — and those past RESULT_RETENTION_DAYS — no longer count.
   */
  async usage(
    caller: Caller,
    from: Date | null,
    to: Date | null,
  ): Promise<Result<{ readonly period: UsagePeriod; readonly usage: TaskUsage }, GatewayError>> {
    const period = usagePeriod(from, to, Date.now());
    if (!period.ok) return period;
    const usage = await this.ledger.store.usageForTenant(caller, period.value.from, period.value.to);
    return ok({ period: period.value, usage });
  }

  /** How many tasks the caller has (a server key: of `subject` when given), in `state` when given. */
  count(caller: Caller, state: TaskState | null, subject: string | null = null): Promise<number> {
    return this.ledger.store.countForTenant(
      { tenantId: caller.tenantId, subject: subjectFilter(caller, subject) },
      state,
    );
  }

  /**
   * Cancels an unfinished task: a queued one is never sent, a running one stops being polled and
   * its late results are dropped. A finished task is returned unchanged (its state says so).
   */
  async cancel(caller: Caller, id: string): Promise<Task | null> {
    if (!(await this.get(caller, id))) return null;
    const task = await this.ledger.update(id, (current) =>
      isTerminal(current.state) ? null : { state: 'CANCELLED', pendingImages: [], submitInFlight: false },
    );
    if (task?.state === 'CANCELLED') {
      this.scheduler.untrack(id);
      await this.options.spool.discard(task.source);
    }
    return task;
  }

  /** Removes the task and its files at once; afterwards it reads as null and its links answer 404. */
  async delete(caller: Caller, id: string): Promise<boolean> {
    const task = await this.get(caller, id);
    if (!task) return false;
    await this.cancel(caller, id);
    await this.ledger.store.delete(id);
    this.ledger.events.announceRemoved(id);
    this.scheduler.untrack(id);
    await this.blobs.deletePrefix(taskBlobPrefix(id));
    await this.options.spool.discard(task.source);
    return true;
  }
}

/** No credits: the early check of an input refused anyway, which will never be sent. */
const NOTHING = { images: 0, cutouts: 0 };

function keyReused(): GatewayError {
  return badInput(
    'IDEMPOTENCY_KEY_REUSED',
    ['input', 'idempotencyKey'],
    'This idempotencyKey was already used with a different input in the last 24 hours.',
  );
}

/** Whether `task` was created with the same parameters (the image aside) as `params`. */
function sameParams(
  task: Task,
  params: Pick<ValidParams, 'prompt' | 'sceneType' | 'negativePrompt' | 'batchSize' | 'removeBackground'>,
): boolean {
  return (
    task.prompt === params.prompt &&
    task.sceneType === params.sceneType &&
    task.negativePrompt === params.negativePrompt &&
    task.batchSize === params.batchSize &&
    (task.cutout !== null) === params.removeBackground
  );
}
