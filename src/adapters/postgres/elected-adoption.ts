import pg from 'pg';
import type { Logger } from 'pino';
import { isTerminal } from '../../core/model.js';
import type { TaskStore } from '../../core/store.js';
import type { AdoptionHooks, TaskAdoption } from '../../scheduler/task-adoption.js';
import { LOCK_SPACE } from './connection.js';

/** What the election needs. */
export interface ElectedAdoptionDeps {
  /** `DATABASE_URL`: the election holds one connection of its own, which carries the lock. */
  readonly url: string;
  readonly store: TaskStore;
  readonly logger: Logger;
  /** Names the PicWish key this scheduler drives (a hash of it, never the key). */
  readonly keyId: string;
  /** The unfinished ids of this key's tasks, oldest first (`PgTaskStore.listUnfinishedIdsOf`). */
  readonly unfinishedIds: () => Promise<string[]>;
  /** Calls `listener` with the id of every task another instance announced (new ones included). */
  readonly onAnnounced?: (listener: (taskId: string) => void) => void;
  /**
   * How often a follower tries for the lock and a leader checks it still holds its connection.
   * @default 500
   */
  readonly checkEveryMs?: number;
  /**
   * How long a new leader waits before its first upstream call: the previous leader's last calls
   * (it may have died a moment ago) still count in PicWish's one-second window.
   * @default 1000
   */
  readonly takeoverPauseMs?: number;
}

/**
 * One scheduler per PicWish key, elected: this instance drives the key's tasks only while it
 * holds the key's PostgreSQL advisory lock, taken with `pg_try_advisory_lock` on a dedicated
 * connection. The lock lives as long as that session, so when the leader dies — SIGKILL, a lost
 * machine, PostgreSQL restarting — it is gone, and a follower wins it on its next try (within
 * `checkEveryMs`); a leader that stops hands it back at once. The other instances serve HTTP/SSE.
 *
 * A leader that lost its session stops driving (`holds` answers false) before a new one can win;
 * a step already in flight can still commit, which the store's version compare-and-set keeps from
 * recording twice, and the resubmission rule (`submitInFlight`) keeps from sending twice.
 */
export class ElectedAdoption implements TaskAdoption {
  readonly #deps: ElectedAdoptionDeps;
  readonly #every: number;
  #hooks: AdoptionHooks | null = null;
  #client: pg.Client | null = null;
  #leader = false;
  #running = false;
  #timer: NodeJS.Timeout | null = null;
  #ticking: Promise<void> | null = null;

  constructor(deps: ElectedAdoptionDeps) {
    this.#deps = deps;
    this.#every = deps.checkEveryMs ?? 500;
  }

  /** True while this instance leads (for /readyz and the tests). */
  get leading(): boolean {
    return this.#leader;
  }

  async start(hooks: AdoptionHooks): Promise<void> {
    this.#hooks = hooks;
    this.#running = true;
    this.#deps.onAnnounced?.((taskId) => {
      if (this.#leader && !hooks.isDriving(taskId)) void this.#driveIfUnfinished(taskId);
    });
    await this.#tick();
    this.#timer = setInterval(() => void this.#tick(), this.#every);
    this.#timer.unref();
  }

  holds(): boolean {
    return this.#leader;
  }

  claim(task: Parameters<TaskAdoption['claim']>[0], dueAt: number): void {
    if (this.#leader && this.#running && !this.#hooks?.isDriving(task.id)) this.#hooks?.drive(task, dueAt);
  }

  release(): void {
    // Nothing per task: the lock covers the key.
  }

  stop(): void {
    this.#running = false;
    if (this.#timer) clearInterval(this.#timer);
  }

  async handBack(): Promise<void> {
    await this.#ticking;
    this.#leader = false;
    const client = this.#client;
    this.#client = null;
    // Ending the session frees the lock: a follower wins it on its next try.
    await client?.end().catch(() => undefined);
  }

  /** One round: keep or win the lock; a new leader adopts every unfinished task. */
  #tick(): Promise<void> {
    this.#ticking ??= this.#round().finally(() => {
      this.#ticking = null;
    });
    return this.#ticking;
  }

  async #round(): Promise<void> {
    if (!this.#running) return;
    try {
      const client = await this.#connection();
      if (this.#leader) {
        await client.query('select 1');
        await this.#adoptAll();
        return;
      }
      const { rows } = await client.query<{ won: boolean }>(
        'select pg_try_advisory_lock($1, hashtext($2)) as won',
        [LOCK_SPACE.leader, this.#deps.keyId],
      );
      if (!rows[0]?.won || !this.#running) return;
      await new Promise((resolve) => setTimeout(resolve, this.#deps.takeoverPauseMs ?? 1_000));
      // The session may have gone meanwhile, and the lock with it.
      if (this.#client !== client || !this.#running) return;
      this.#leader = true;
      this.#deps.logger.info({ keyId: this.#deps.keyId }, 'leading the scheduler for this PicWish key');
      await this.#adoptAll();
    } catch (error) {
      this.#lost(error as Error);
    }
  }

  async #connection(): Promise<pg.Client> {
    if (this.#client) return this.#client;
    const client = new pg.Client({
      connectionString: this.#deps.url,
      application_name: 'pwg-leader',
      keepAlive: true,
      connectionTimeoutMillis: 5_000,
    });
    client.on('error', (error) => {
      if (this.#client === client) this.#lost(error);
    });
    client.on('end', () => {
      if (this.#client === client) this.#lost(new Error('connection ended'));
    });
    await client.connect();
    this.#client = client;
    return client;
  }

  /** The session (and with it the lock) is gone: stop driving at once; the next round tries again. */
  #lost(error: Error): void {
    const client = this.#client;
    this.#client = null;
    client?.end().catch(() => undefined);
    if (this.#leader) {
      this.#leader = false;
      this.#deps.logger.warn(
        { err: error.message, keyId: this.#deps.keyId },
        'lost the scheduler lock; pausing until it is won again',
      );
    }
  }

  /** Drives every unfinished task not driven yet: after winning, and each round as a safety net. */
  async #adoptAll(): Promise<void> {
    const hooks = this.#hooks;
    if (!hooks) return;
    const ids = (await this.#deps.unfinishedIds()).filter((id) => !hooks.isDriving(id));
    for (const id of ids) await this.#driveIfUnfinished(id);
  }

  async #driveIfUnfinished(taskId: string): Promise<void> {
    const task = await this.#deps.store.get(taskId).catch(() => null);
    if (!task || isTerminal(task.state) || !this.#leader || !this.#running) return;
    if (!this.#hooks?.isDriving(task.id)) this.#hooks?.drive(task);
  }
}
