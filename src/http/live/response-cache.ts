import type { IncomingMessage, ServerResponse } from 'node:http';
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { ANONYMOUS, type Caller, callerKey } from '../../core/caller.js';
import { isTerminal } from '../../core/model.js';
import type { GatewayContext, GatewayServices } from '../../graphql/schema/context.js';
import type { GatewayMetrics } from '../../observability/metrics.js';
import type { GraphQLParams } from '../graphql-params.js';
import { taskReadIds } from './task-operations.js';
import type { YogaOperations } from './yoga-operations.js';

const MAX_ANSWERS = 10_000;
const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

interface Pending {
  readonly key: string;
  readonly caller: Caller;
  readonly taskIds: readonly string[];
  readonly expiry: number;
  readonly operationName: string;
}

interface Answer {
  readonly caller: Caller;
  readonly status: number;
  readonly headers: Record<string, string>;
  /**
   * Kept as text: Node sends a text body in the same write as the head, where a Buffer costs a
   * second chunk (`writev`), the largest single item of a hit in a CPU profile.
   */
  readonly body: string;
  /** The body's size in bytes, for the cache's bound. */
  readonly bytes: number;
  readonly taskIds: readonly string[];
  readonly expiry: number;
  /** graphql_operations_total for this operation, counted on each hit as Yoga would. */
  readonly counter: { inc(): void };
  /** The mutation generation at which the store last confirmed the tasks. */
  checkedGeneration: number;
}

/**
 * Finished-task reads answered from Yoga's own earlier answer to the same bytes (same tenant,
 * `Accept`, `Origin`): a JSON POST whose operation only reads `backgroundTask` of tasks in a final
 * state, by document text or by a persisted operation's hash. A finished task changes only by
 * being deleted, and a deletion on any instance is announced to all (`TaskEvents.onRemoved`), so
 * an entry stands until then — or until result links would be signed with another expiry (the
 * signer rounds expiries to the minute). A mutation that finishes on this process makes the next
 * hit confirm its tasks in the store first, so a client's own deletion is seen at once even while
 * the announcement is still on its way through PostgreSQL.
 *
 * Kept in front of Yoga rather than `@graphql-yoga/plugin-response-cache`: a hit here skips
 * Yoga's whole request pipeline, which alone costs more than the 0.8× bare-server throughput
 * target allows (docs/benchmarks.md, row 4).
 */
export class ResponseCache {
  readonly #answers = new Map<string, Answer>();
  readonly #byTask = new Map<string, Set<string>>();
  readonly #pending = new WeakMap<object, Pending>();
  #bytes = 0;
  /** Bumped when a mutation finishes on this process. */
  #generation = 0;
  #bucket = 0;
  #bucketReadAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly services: GatewayServices,
    private readonly metrics: GatewayMetrics,
    private readonly operations: YogaOperations,
  ) {
    // The feed lives as long as the gateway's TaskEvents (and its PostgreSQL listener).
    services.events.onRemoved((taskId) => this.#dropTask(taskId));
  }

  /** Answers from the cache (true), or notes the request as a candidate for Yoga's answer (false). */
  async answer(
    req: IncomingMessage & { caller?: Caller },
    res: ServerResponse,
    text: string,
    /** The body's parameters, read only on a miss (a hit needs the bytes alone). */
    paramsOf: () => GraphQLParams | null,
  ): Promise<boolean> {
    const caller = req.caller ?? ANONYMOUS;
    // Per caller, not per tenant: a session's answer must never be another end user's hit (#23).
    const key = `${callerKey(caller)}\u0000${req.headers.accept ?? ''}\u0000${req.headers.origin ?? ''}\u0000${text}`;
    const cached = this.#answers.get(key);
    const fresh = cached !== undefined && cached.expiry === this.#signerBucket();
    // The common hit (no mutation here since the entry was confirmed) awaits nothing.
    if (fresh && (cached.checkedGeneration === this.#generation || (await this.#confirmed(cached)))) {
      cached.counter.inc();
      res.writeHead(cached.status, cached.headers);
      res.end(cached.body);
      return true;
    }
    if (cached) this.#forget(key);
    const params = paramsOf();
    if (!params) return false;
    try {
      const pending = await this.#candidate(key, caller, params);
      if (pending) this.#pending.set(req, pending);
    } catch {
      // The store did not answer: Yoga runs the operation and answers as it would.
    }
    return false;
  }

  /** Keeps Yoga's successful answers to the candidates noted by `answer`. */
  plugin(): Plugin<GatewayContext> {
    return {
      onExecute: ({ args }) => {
        if (getOperationAST(args.document, args.operationName)?.operation !== 'mutation') return;
        return {
          onExecuteDone: () => {
            this.#generation += 1;
          },
        };
      },
      onResponse: ({ response, serverContext }) => {
        const req = (serverContext as { req?: object } | undefined)?.req;
        const pending = req ? this.#pending.get(req) : undefined;
        if (!pending || response.status !== 200) return;
        if (!(response.headers.get('content-type') ?? '').includes('json')) return;
        return response
          .clone()
          .text()
          .then(async (body) => {
            if ((JSON.parse(body) as { errors?: unknown }).errors !== undefined) return;
            const generation = this.#generation;
            // A deletion may have happened while Yoga answered.
            if (pending.expiry !== this.#signerBucket() || !(await this.#allExist(pending))) return;
            this.#remember(pending, {
              caller: pending.caller,
              status: response.status,
              headers: Object.fromEntries(response.headers),
              body,
              bytes: Buffer.byteLength(body),
              taskIds: pending.taskIds,
              expiry: pending.expiry,
              counter: this.metrics.operations.labels({ operation: pending.operationName, outcome: 'ok' }),
              checkedGeneration: generation,
            });
          })
          .catch(() => {});
      },
    };
  }

  async #candidate(key: string, caller: Caller, params: GraphQLParams): Promise<Pending | null> {
    const prepared = this.operations.prepare(params, caller);
    if (!prepared) return null;
    const taskIds = taskReadIds({
      ...prepared,
      variables: params.variables,
      operationName: params.operationName,
    });
    if (!taskIds) return null;
    for (const id of taskIds) {
      const task = await this.services.tasks.get(caller, id);
      if (!task || !isTerminal(task.state)) return null;
    }
    const operationName = (params.operationName ?? 'anonymous').slice(0, 64);
    return { key, caller, taskIds, expiry: this.#signerBucket(), operationName };
  }

  /**
   * Whether the entry's tasks still exist, read from the store; called only when a mutation
   * finished here since they were last confirmed (the caller checks the generation first).
   */
  async #confirmed(answer: Answer): Promise<boolean> {
    const generation = this.#generation;
    if (!(await this.#allExist(answer))) return false;
    answer.checkedGeneration = generation;
    return true;
  }

  async #allExist(entry: { readonly caller: Caller; readonly taskIds: readonly string[] }): Promise<boolean> {
    for (const id of entry.taskIds) if (!(await this.services.tasks.get(entry.caller, id))) return false;
    return true;
  }

  /**
   * Result links handed out now expire at this instant (the signer rounds to the minute); a cached
   * answer is only as fresh as it. Read at most once a second, to keep an HMAC off every hit.
   */
  #signerBucket(): number {
    const now = Date.now();
    if (now >= this.#bucketReadAt + 1_000 || now < this.#bucketReadAt) {
      this.#bucket = this.services.signer.sign('-', now).expiresAt.getTime();
      this.#bucketReadAt = now;
    }
    return this.#bucket;
  }

  #remember(pending: Pending, answer: Answer): void {
    this.#forget(pending.key);
    this.#answers.set(pending.key, answer);
    this.#bytes += answer.bytes + pending.key.length;
    for (const id of answer.taskIds) {
      const keys = this.#byTask.get(id) ?? new Set<string>();
      keys.add(pending.key);
      this.#byTask.set(id, keys);
    }
    while (this.#answers.size > MAX_ANSWERS || this.#bytes > MAX_ANSWER_BYTES) {
      const oldest = this.#answers.keys().next().value as string;
      this.#forget(oldest);
    }
  }

  #forget(key: string): void {
    const answer = this.#answers.get(key);
    if (!answer) return;
    this.#answers.delete(key);
    this.#bytes -= answer.bytes + key.length;
    for (const id of answer.taskIds) {
      const keys = this.#byTask.get(id);
      keys?.delete(key);
      if (keys?.size === 0) this.#byTask.delete(id);
    }
  }

  #dropTask(taskId: string): void {
    for (const key of [...(this.#byTask.get(taskId) ?? [])]) this.#forget(key);
  }
}
