import type { ExecutionResult } from 'graphql';
import { type Plugin, Repeater } from 'graphql-yoga';
import type { GatewayContext } from '../../graphql/schema/context.js';
import type { StreamSpec } from './stream-group.js';
import type { StreamHub } from './stream-hub.js';
import { taskStreamSpec } from './task-operations.js';

/**
 * The hub's adapter inside Yoga: a `backgroundTaskUpdated` subscription that Yoga runs itself —
 * graphql-sse's single-connection mode on `/graphql/stream`, and any stream the node handler's
 * adapter (sse-routes.ts) left to Yoga — joins the same group as the node handler's streams
 * instead of running its own resolver. graphql-sse and Yoga then frame the shared results.
 */
export function useSharedTaskStreams(hub: StreamHub): Plugin<GatewayContext> {
  return {
    onSubscribe: ({ args, subscribeFn, setSubscribeFn }) => {
      const context = args.contextValue as GatewayContext & { params?: { query?: unknown } };
      const query = context.params?.query;
      if (typeof query !== 'string') return;
      const spec = taskStreamSpec({
        caller: context.caller,
        query,
        document: args.document,
        variables: (args.variableValues as Record<string, unknown> | null | undefined) ?? null,
        operationName: args.operationName ?? null,
      });
      if (!spec) return;
      setSubscribeFn((subscribeArgs) => sharedStream(hub, spec, () => subscribeFn(subscribeArgs)));
    },
  };
}

/** The group's events as the async iterable Yoga expects; the schema's own stream if not found. */
function sharedStream(hub: StreamHub, spec: StreamSpec, own: () => unknown): AsyncIterable<ExecutionResult> {
  return new Repeater<ExecutionResult>(async (push, stop) => {
    const leave = await hub.join(spec, {
      next: (event) => void push(event.result),
      complete: () => stop(),
    });
    if (leave) {
      await stop;
      leave();
      return;
    }
    // Not the tenant's task: the schema's subscription answers NOT_FOUND as usual.
    const result = (await own()) as AsyncIterable<ExecutionResult> | ExecutionResult;
    if (!(Symbol.asyncIterator in result)) {
      await push(result);
      stop();
      return;
    }
    const iterator = result[Symbol.asyncIterator]();
    void stop.then(() => iterator.return?.());
    for (let step = await iterator.next(); !step.done; step = await iterator.next()) await push(step.value);
    stop();
  });
}
