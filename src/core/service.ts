import { createHash, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { GuardedFetcher } from '../outbound/index.js';
import { type BlobStore, taskBlobPrefix } from '../results/blob-store.js';
import { err, ok, type Result } from '../shared/result.js';
import { badInput, type GatewayError } from './errors.js';
import type { TaskLedger } from './ledger.js';
import { isTerminal, newQueuedTask, type Task, type TaskSource, type TaskState } from './model.js';
import { IDEMPOTENCY_WINDOW_MS, IdempotencyConflictError, type TaskPage } from './store.js';
import type { TaskDriver } from './task-driver.js';
import { TenantLimitError, type TenantLimiter, type TenantStanding } from './tenant-limits.js';
import type { UploadSpool } from './upload-spool.js';
import { spoolImageUrl } from './url-input.js';
import { type TaskUsage, type UsagePeriod, usagePeriod } from './usage.js';
import {
  type GenerateParams,
  IMAGE_FIELDS,
  type ImageChoice,
  validateHttpUrl,
  validateParams,
  WEBHOOK_FIELDS,
} from './validation.js';

/**
 * The foreground as the schema received it: an upload still streaming in (opened on demand) or a
 * URL. Exactly one must be given; `validateParams` refuses anything else.
 */
export interface ImageInput extends ImageChoice {
  readonly file?: (() => Promise<Readable>) | null;
  readonly url?: string | null;
  /** Downscale an oversized image instead of refusing it (#14). @default true */
  readonly fit?: boolean;
}

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
  /** Called once per task really created (not for an idempotent replay), for the metrics. */
  readonly onCreated?: () => void;
}

/**
 * What the schema can do with tasks. Every call names the tenant: a task of another tenant is
 * simply not there (null, false, NOT_FOUND), never "forbidden", so its existence does not leak.
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
    tenantId: string,
    image: ImageInput,
    params: GenerateParams,
  ): Promise<Result<Task, GatewayError>> {
    const prepared = await this.prepare(tenantId, image, params);
    if (!prepared.ok) return prepared;
    return this.creating(tenantId, (create) => create(prepared.value));
  }

  /**
   * The first half of a creation, shared by `generate` and batches (batches.ts): checks the
   * input, makes the cheap early limit check, streams the image into the spool and builds the
   * QUEUED task — without storing it (`earlyLimitCheck: false` skips the hint, for a batch that
   * is likely a replay). The task's upload is then the caller's until it hands the
   * task to `creating`'s `create` or to `discard`.
   */
  async prepare(
    tenantId: string,
    image: ImageInput,
    params: GenerateParams,
    options: { readonly batchId?: string; readonly earlyLimitCheck?: boolean } = {},
  ): Promise<Result<Task, GatewayError>> {
    const valid = validateParams(image, this.#withDefaultWebhook(tenantId, params));
    if (!valid.ok) return valid;
    const webhookChecked = await this.#checkWebhook(valid.value.webhook?.url ?? null);
    if (!webhookChecked.ok) return webhookChecked;
    const open = image.file ?? null;
    let url: string | null = null;
    if (open === null) {
      const checked = validateHttpUrl(image.url ?? '', IMAGE_FIELDS.url);
      if (!checked.ok) return checked;
      url = checked.value;
    }
    // A cheap early refusal, before the upload is read. It is only a hint: parallel requests all
    // pass it together, so the binding check is made again under the tenant's lock below. An
    // idempotent replay skips it: returning the task it already made spends nothing.
    const replay =
      valid.value.idempotencyKey !== null &&
      (await this.ledger.store.findByIdempotencyKey(
        tenantId,
        valid.value.idempotencyKey,
        Date.now() - IDEMPOTENCY_WINDOW_MS,
      )) !== null;
    if (!replay && options.earlyLimitCheck !== false) {
      const allowed = await this.limiter.admit(tenantId);
      if (!allowed.ok) return allowed;
    }

    const id = randomUUID();
    const fit = image.fit ?? true;
    // With removeBackground the foreground is a photo, background and all; otherwise it must be a
    // transparent PNG, refused exactly as before #14.
    const accept = (body: Readable) =>
      valid.value.removeBackground
        ? this.options.spool.acceptPhoto(id, body, fit)
        : this.options.spool.accept(id, body, fit);
    let source: TaskSource;
    if (open !== null) {
      const field = IMAGE_FIELDS.file;
      let stream: Readable;
      try {
        stream = await open();
      } catch (error) {
        const status = (error as { status?: number }).status;
        return err(
          status === 413
            ? badInput('FILE_TOO_LARGE', field, 'The file is larger than 20 MB.')
            : badInput('UPLOAD_MISSING', field, 'The upload named in the request did not arrive.'),
        );
      }
      const spooled = await accept(stream);
      if (!spooled.ok) return err(badInput(spooled.error.reason, field, spooled.error.message));
      source = spooled.value;
    } else {
      const fetched = await spoolImageUrl(this.options.imageUrls, url as string, IMAGE_FIELDS.url, accept);
      if (!fetched.ok) return fetched;
      source = fetched.value;
    }

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
    tenantId: string,
    work: (create: (task: Task) => Promise<Result<Task, GatewayError>>) => Promise<T>,
  ): Promise<T> {
    return this.#exclusive(tenantId, () => work((task) => this.#create(task)));
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
    this.options.onCreated?.();
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
    const earlier =
      key === null
        ? null
        : await this.ledger.store.findByIdempotencyKey(
            task.tenantId,
            key,
            task.createdAt - IDEMPOTENCY_WINDOW_MS,
          );
    if (earlier) {
      if (earlier.inputHash === task.inputHash) return ok(earlier);
      return err(
        badInput(
          'IDEMPOTENCY_KEY_REUSED',
          ['input', 'idempotencyKey'],
          'This idempotencyKey was already used with a different input in the last 24 hours.',
        ),
      );
    }
    const allowed = await this.limiter.admit(task.tenantId);
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
    this.limiter.record(task.tenantId);
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

  /** Where `tenantId` stands against its creation limits now. */
  standing(tenantId: string): Promise<TenantStanding> {
    return this.limiter.standing(tenantId);
  }

  /** The task if it exists and belongs to `tenantId`. */
  async get(tenantId: string, id: string): Promise<Task | null> {
    const task = await this.ledger.store.get(id);
    return task && task.tenantId === tenantId ? task : null;
  }

  /** The tenant's tasks, newest first. */
  async list(
    tenantId: string,
    first: number,
    after: string | null,
    state: TaskState | null,
  ): Promise<Result<TaskPage, GatewayError>> {
    if (!Number.isInteger(first) || first < 1 || first > 100) {
      return err(badInput('INVALID_PAGE_SIZE', ['first'], 'first must be between 1 and 100.'));
    }
    if (after !== null && !(await this.get(tenantId, after))) {
      return err(badInput('INVALID_CURSOR', ['after'], 'The cursor does not name one of your tasks.'));
    }
    return ok(await this.ledger.store.listForTenant(tenantId, { first, after, state }));
  }

  /**
   * What the tenant's tasks created in the period (default: the last 24 hours) came to. Read from
   * the store, so deleted tasks — and those past RESULT_RETENTION_DAYS — no longer count.
   */
  async usage(
    tenantId: string,
    from: Date | null,
    to: Date | null,
  ): Promise<Result<{ readonly period: UsagePeriod; readonly usage: TaskUsage }, GatewayError>> {
    const period = usagePeriod(from, to, Date.now());
    if (!period.ok) return period;
    const usage = await this.ledger.store.usageForTenant(tenantId, period.value.from, period.value.to);
    return ok({ period: period.value, usage });
  }

  /** How many tasks the tenant has, in `state` when given. */
  count(tenantId: string, state: TaskState | null): Promise<number> {
    return this.ledger.store.countForTenant(tenantId, state);
  }

  /**
   * Cancels an unfinished task: a queued one is never sent, a running one stops being polled and
   * its late results are dropped. A finished task is returned unchanged (its state says so).
   */
  async cancel(tenantId: string, id: string): Promise<Task | null> {
    if (!(await this.get(tenantId, id))) return null;
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
  async delete(tenantId: string, id: string): Promise<boolean> {
    const task = await this.get(tenantId, id);
    if (!task) return false;
    await this.cancel(tenantId, id);
    await this.ledger.store.delete(id);
    this.ledger.events.announceRemoved(id);
    this.scheduler.untrack(id);
    await this.blobs.deletePrefix(taskBlobPrefix(id));
    await this.options.spool.discard(task.source);
    return true;
  }
}
