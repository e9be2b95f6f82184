import { type Caller, canSee, callerKey as keyOfCaller } from '../../core/caller.js';
import type { Task } from '../../core/model.js';

/**
 * Who follows a stream. The one place that says which callers may share a group's execution
 * (`callerKey`, part of every group key) and what a caller may follow (`mayFollow`, checked on the
 * snapshot and on every update), so a new part of the caller is a change here only. The caller is
 * the core's (#23): a tenant, and for a session one end user of it.
 */
export type StreamCaller = Caller;

/** Callers with equal keys see the same results, so they may share one execution. */
export function callerKey(caller: StreamCaller): string {
  return keyOfCaller(caller);
}

/** Whether `caller` may follow `task` (a task it may not is answered NOT_FOUND). */
export function mayFollow(caller: StreamCaller, task: Task): boolean {
  return canSee(caller, task);
}

export { ANONYMOUS } from '../../core/caller.js';
