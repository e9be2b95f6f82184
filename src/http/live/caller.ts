import type { Task } from '../../core/model.js';

/**
 * Who follows a stream. The one place that says which callers may share a group's execution
 * (`callerKey`, part of every group key) and what a caller may follow (`mayFollow`, checked on the
 * snapshot and on every update; `batchOwner`, the tenant a batch is followed for), so a new part of
 * the caller is a change here only.
 */
export interface StreamCaller {
  readonly tenantId: string;
}

/** Callers with equal keys see the same results, so they may share one execution. */
export function callerKey(caller: StreamCaller): string {
  return caller.tenantId;
}

/** Whether `caller` may follow `task` (a task it may not is answered NOT_FOUND). */
export function mayFollow(caller: StreamCaller, task: Task): boolean {
  return task.tenantId === caller.tenantId;
}

/** The tenant whose batch `caller` may follow (BatchFeeds.follow answers null for another's). */
export function batchOwner(caller: StreamCaller): string {
  return caller.tenantId;
}
