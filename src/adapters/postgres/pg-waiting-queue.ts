import type pg from 'pg';
import type { KeyLoad } from '../../scheduler/key-pool.js';
import type { WaitingQueue } from '../../scheduler/waiting-queue.js';
import type { PgKeyScope } from './pg-key-scope.js';

/**
 * A task waits in the gateway's queue while QUEUED without an upstream id (`isWaitingToBeSent`);
 * the partial index `tasks_waiting` (migration 2) holds exactly those rows. The upstream id is a
 * column of its own: a predicate reading it out of `doc` would parse the document on every write,
 * and json's `->>` refuses the `\u0000` a prompt may carry.
 */
function waiting(alias: string): string {
  return `${alias}.state = 'QUEUED' and ${alias}.upstream_task_id is null`;
}

/** A charged step of the task may still be sent: not final, and no upstream id yet (a cutout may be stored). */
function unsent(alias: string): string {
  return `${alias}.state in ('QUEUED', 'PROCESSING') and ${alias}.upstream_task_id is null`;
}

/**
 * One PicWish key's waiting queue in the cluster: the send order its elected scheduler published
 * (`waiting_orders`, migration 9; fair-queue.ts), read against the tasks table itself, so whichever
 * instance a watcher is on, it counts the same tasks ahead — those of the order still unsent — and
 * a task leaves the queue by the very write that records it as sent. A waiting task the order
 * does not hold yet (made a moment ago, or past the published part) comes after it, by arrival.
 */
export class PgWaitingQueue implements WaitingQueue {
  constructor(
    private readonly pool: pg.Pool,
    private readonly scope: PgKeyScope,
    private readonly keyId: string,
  ) {}

  async publish(order: readonly string[]): Promise<void> {
    await this.pool.query(
      `insert into waiting_orders (key_id, ids, published_at) values ($1, $2::text[], $3)
       on conflict (key_id) do update set ids = excluded.ids, published_at = excluded.published_at`,
      [this.keyId, order, Date.now()],
    );
  }

  add(): void {
    // The task's row is the queue entry.
  }

  remove(): void {
    // Leaving the queue is the task's own update.
  }

  /**
   * Counts the tasks ahead of this one, whether or not it still waits itself: the caller asks
   * because the task it holds was waiting, and the leader may have sent it on another instance
   * since that read. Its place is then the one it left (1, or more when the ones ahead were sent
   * after it), not null beside a QUEUED state. Null only for an unknown task.
   */
  async position(taskId: string): Promise<number | null> {
    const { rows } = await this.pool.query<{ ahead: string }>(
      `with ord as (
         select u.id, u.n from waiting_orders o cross join lateral unnest(o.ids) with ordinality as u(id, n)
         where o.key_id = $3
       ),
       live as (select ord.id, ord.n from ord join tasks w on w.id = ord.id where ${unsent('w')}),
       me as (select t.id, t.created_at, (select n from ord where ord.id = t.id) as n from tasks t where t.id = $1)
       select case when me.n is not null
         then (select count(*) from live where live.n < me.n)
         else (select count(*) from live)
           + (select count(*) from tasks w
              where ${waiting('w')} and ${this.scope.sql('w', 2)}
                and not exists (select 1 from ord where ord.id = w.id)
                and (w.created_at, w.id) < (me.created_at, me.id))
         end as ahead
       from me`,
      [taskId, this.scope.value, this.keyId],
    );
    return rows[0] ? Number(rows[0].ahead) + 1 : null;
  }

  /** This key's load across the cluster, for the pool's choice of the shortest queue. */
  async load(): Promise<KeyLoad> {
    const { rows } = await this.pool.query<{ waiting: string; unfinished: string }>(
      `select count(*) filter (where ${waiting('t')}) as waiting, count(*) as unfinished
       from tasks t where t.state in ('QUEUED', 'PROCESSING') and ${this.scope.sql('t', 1)}`,
      [this.scope.value],
    );
    return { waiting: Number(rows[0]?.waiting ?? 0), unfinished: Number(rows[0]?.unfinished ?? 0) };
  }

  async waitingAmong(taskIds: readonly string[]): Promise<string[]> {
    if (taskIds.length === 0) return [];
    const { rows } = await this.pool.query<{ id: string }>(
      `select t.id from tasks t where t.id = any($1::text[]) and ${waiting('t')}`,
      [taskIds],
    );
    return rows.map((row) => row.id);
  }
}
