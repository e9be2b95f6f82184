import { context, ROOT_CONTEXT, type SpanContext, SpanStatusCode, trace } from '@opentelemetry/api';
import { TRACER_NAME } from '../observability/tracing.js';

/** How many tasks' origins are kept at most (an in-flight task per entry; far above the budget's pace). */
const MAX_REMEMBERED = 10_000;

/**
 * One trace per task, continuing the request that created it: `remember` keeps the creating
 * request's span context (current while the service hands the task to the scheduler), and every
 * step — create, poll, result download — runs in a span whose parent it is, even minutes later.
 * The context lives in this instance's memory: a task adopted by another instance (cluster, restart)
 * is traced from there on in traces of its own, each span named by `task.id`. With tracing off
 * nothing is remembered and every span is the API's no-op.
 */
export class TaskTraces {
  readonly #origins = new Map<string, SpanContext>();

  /**
   * Keeps the span context current now as the parent of task `taskId`'s steps. In a cluster a task
   * remembered here may be driven elsewhere and never forgotten here: the oldest entries go first
   * past `MAX_REMEMBERED`.
   */
  remember(taskId: string): void {
    const origin = trace.getSpanContext(context.active());
    if (!origin || !trace.isSpanContextValid(origin)) return;
    this.#origins.set(taskId, origin);
    if (this.#origins.size > MAX_REMEMBERED) {
      this.#origins.delete(this.#origins.keys().next().value as string);
    }
  }

  /** Forgets task `taskId` (it is no longer driven here). */
  forget(taskId: string): void {
    this.#origins.delete(taskId);
  }

  /** Runs one step of task `taskId` in a span `task.<kind>` under the task's trace. */
  step<T>(taskId: string, kind: string, work: () => Promise<T>): Promise<T> {
    const origin = this.#origins.get(taskId);
    const parent = origin ? trace.setSpanContext(ROOT_CONTEXT, origin) : ROOT_CONTEXT;
    return inSpan(`task.${kind}`, { 'task.id': taskId }, parent, work);
  }

  /** Runs `work` in a child span of the current step (a result download within a poll, say). */
  child<T>(name: string, attributes: Record<string, string>, work: () => Promise<T>): Promise<T> {
    return inSpan(name, attributes, context.active(), work);
  }
}

function inSpan<T>(
  name: string,
  attributes: Record<string, string>,
  parent: ReturnType<typeof context.active>,
  work: () => Promise<T>,
): Promise<T> {
  return trace.getTracer(TRACER_NAME).startActiveSpan(name, { attributes }, parent, async (span) => {
    try {
      return await work();
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}
