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

/**
 * One PicWish key's waiting queue in the cluster, read from the tasks table itself: whichever
 * instance a watcher is on, it counts the same waiting tasks of that key in the same order
 * (arrival, then id), and nothing has to be kept in step — a task leaves the queue by the very
 * write that records it as sent.
 */
export class PgWaitingQueue implements WaitingQueue {
  constructor(
    private readonly pool: pg.Pool,
    private readonly scope: PgKeyScope,
  ) {}

  add(): void {
    // The task's row is the queue entry.
  }

  remove(): void {
    // Leaving the queue is the task's own update.
  }

  /**
   * Counts the waiting tasks that arrived before this one, whether or not it still waits itself:
   * the caller asks because the task it holds was waiting, and the leader may have sent it on
   * another instance since that read. Its place is then the one it left (1, or more when the ones
   * ahead were sent after it), not null beside a QUEUED state. Null only for an unknown task.
   */
  async position(taskId: string): Promise<number | null> {
    const { rows } = await this.pool.query<{ ahead: string }>(
      `select (select count(*) from tasks w
               where ${waiting('w')} and ${this.scope.sql('w', 2)}
                 and (w.created_at, w.id) < (t.created_at, t.id)) as ahead
       from tasks t where t.id = $1`,
      [taskId, this.scope.value],
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
