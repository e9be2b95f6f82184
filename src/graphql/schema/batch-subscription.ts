import { Repeater } from 'graphql-yoga';
import type { BatchView } from '../../core/batches.js';
import { BackgroundBatchRef, batchIdArgument } from './batch.js';
import { builder } from './builder.js';
import { toGraphQLError } from './errors.js';

/** Marks a subscription to a batch the caller cannot see; `resolve` turns it into NOT_FOUND. */
const NOT_FOUND = Symbol('not-found');

/**
 * `backgroundBatchUpdated`, with the task subscription's contract: the batch now first, then each
 * change of its counts, then completion once every accepted input's task is final — so a client
 * that reconnects misses nothing. Every subscriber of a batch on this process joins its one
 * BatchFeeds source; none opens its own. A missing or foreign batch is a NOT_FOUND event, not a
 * thrown error, for the reason subscription.ts gives.
 */
builder.subscriptionFields((t) => ({
  backgroundBatchUpdated: t.field({
    type: BackgroundBatchRef,
    description:
      'The batch now, then each change of its counts by state; completes once every accepted input’s task is final.',
    args: { id: t.arg.id({ required: true, description: 'The batch id from generateBackgrounds.' }) },
    subscribe: (_root, { id }, ctx) =>
      new Repeater<BatchView | typeof NOT_FOUND>(async (push, stop) => {
        const leave = await ctx.services.batchFeeds.follow(ctx.caller, batchIdArgument(String(id)), {
          next: (view) => void push(view),
          complete: () => stop(),
        });
        if (!leave) {
          await push(NOT_FOUND);
          stop();
          return;
        }
        await stop;
        leave();
      }),
    resolve: (event) => {
      if (event === NOT_FOUND) throw toGraphQLError({ kind: 'NOT_FOUND', message: 'No such batch.' });
      return event;
    },
  }),
}));
