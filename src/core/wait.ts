import { err, ok, type Result } from '../shared/result.js';
import { badInput, type GatewayError } from './errors.js';
import type { TaskEvents } from './events.js';
import { isTerminal, type Task } from './model.js';

/** Callers that hold a request open longer than this should subscribe instead (issue #15). */
export const MAX_WAIT_SECONDS = 60;

/**
 * `generateBackground(waitSeconds:)` checked before anything is created, so a bad value costs
 * nothing. Absent means "do not wait" (0).
 */
export function checkWaitSeconds(value: number | null | undefined): Result<number, GatewayError> {
  const seconds = value ?? 0;
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_WAIT_SECONDS) {
    return err(
      badInput(
        'INVALID_WAIT_SECONDS',
        ['waitSeconds'],
        `waitSeconds must be between 0 and ${MAX_WAIT_SECONDS}.`,
      ),
    );
  }
  return ok(seconds);
}

/**
 * The task once it is final or `timeoutMs` has passed, whichever comes first: the one-call answer
 * for callers that cannot hold a stream (Replicate's `Prefer: wait`). Driven by the task events,
 * never by re-reading the store in a loop; the store is read once after listening starts, so a
 * change committed between creation and the first event is not missed. On timeout the newest
 * version seen comes back, unfinished — never an error, so the caller keeps the id.
 */
export function waitUntilFinal(
  events: TaskEvents,
  task: Task,
  timeoutMs: number,
  reread: () => Promise<Task | null>,
): Promise<Task> {
  if (isTerminal(task.state) || timeoutMs <= 0) return Promise.resolve(task);
  return new Promise((resolve) => {
    let latest = task;
    let done = false;
    const consider = (update: Task | null) => {
      if (done || !update || update.version < latest.version) return;
      latest = update;
      if (isTerminal(update.state)) finish();
    };
    const detach = events.watch(task.id, consider);
    const timer = setTimeout(() => finish(), timeoutMs);
    function finish() {
      if (done) return;
      done = true;
      clearTimeout(timer);
      detach();
      resolve(latest);
    }
    reread().then(consider, () => undefined);
  });
}
