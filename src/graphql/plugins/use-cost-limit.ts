import { complexityFromQuery } from '@pothos/plugin-complexity';
import { type DocumentNode, GraphQLError, getOperationAST, Kind } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** How much one operation, and one HTTP request (a batched JSON array adds up), may cost. */
export interface CostLimitOptions {
  /**
   * The most one operation may cost, as the schema's complexity counts it (each field 1, a list
   * multiplying what it selects by its size: builder.ts). A page of 100 tasks with every field and
   * their images costs about 5,000.
   * @default 10000
   */
  readonly maxOperationCost?: number;
  /**
   * The most the operations of one HTTP request may cost together.
   * @default 20000
   */
  readonly maxRequestCost?: number;
}

/** What an execution (or a subscription) is started with, as far as its cost needs. */
interface CostArgs {
  readonly schema: Parameters<typeof complexityFromQuery>[1]['schema'];
  readonly document: DocumentNode;
  readonly operationName?: string | null;
  readonly variableValues?: Record<string, unknown> | null;
  readonly contextValue: unknown;
}

export const DEFAULT_COST_LIMITS = { maxOperationCost: 10_000, maxRequestCost: 20_000 } as const;

/**
 * Refuses an operation whose cost is over the limit, or that takes its HTTP request over the
 * request's limit, before it executes: `COST_LIMIT_EXCEEDED` with the cost and the limit. Measured
 * with the request's variables (`nodes(ids: $ids)` costs by the list it is given), by
 * `@pothos/plugin-complexity`. Operations a request has already paid for stay counted, so a batch
 * cannot split one expensive request into many cheap ones; a subscription's updates are each held
 * to the operation's limit only.
 */
export function useCostLimit(options: CostLimitOptions = {}): Plugin {
  const limits = { ...DEFAULT_COST_LIMITS, ...options };
  const spent = new WeakMap<object, number>();
  const refuse = (message: string, cost: number, maxCost: number) => ({
    errors: [new GraphQLError(message, { extensions: { code: 'COST_LIMIT_EXCEEDED', cost, maxCost } })],
  });
  const check = (args: CostArgs) => {
    let cost: number;
    try {
      cost = operationCost(args);
    } catch {
      // Variables that cannot be coerced: graphql-js answers them as usual.
      return null;
    }
    if (cost > limits.maxOperationCost) {
      return refuse(
        `This operation costs ${cost}, over the limit of ${limits.maxOperationCost} per operation: ask for fewer items (smaller lists, pages or fewer ids) or fewer fields.`,
        cost,
        limits.maxOperationCost,
      );
    }
    const request = (args.contextValue as { request?: object }).request;
    // A subscription's updates are executions the client did not send again (and the shared ones
    // of src/http/live/ run under one stand-in request): each is held to the operation's limit only.
    if (!request || getOperationAST(args.document, args.operationName)?.operation === 'subscription')
      return null;
    const total = (spent.get(request) ?? 0) + cost;
    spent.set(request, total);
    if (total > limits.maxRequestCost) {
      return refuse(
        `The operations of this request cost ${total} together, over the limit of ${limits.maxRequestCost} per request: send them in separate requests, or ask for less.`,
        total,
        limits.maxRequestCost,
      );
    }
    return null;
  };
  return {
    onExecute: ({ args, setResultAndStopExecution }) => {
      const refusal = check(args);
      if (refusal) setResultAndStopExecution(refusal);
    },
    onSubscribe: ({ args, setResultAndStopExecution }) => {
      const refusal = check(args);
      if (refusal) setResultAndStopExecution(refusal);
    },
  };
}

/** The cost of the operation that runs (by `operationName`), with its fragments. */
function operationCost(args: CostArgs): number {
  const operation = getOperationAST(args.document, args.operationName);
  if (!operation) return 0;
  const document: DocumentNode = {
    ...args.document,
    definitions: [operation, ...args.document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION)],
  };
  return complexityFromQuery(document, {
    schema: args.schema,
    ctx: args.contextValue as object,
    variables: { ...(args.variableValues ?? {}) },
  }).complexity;
}
