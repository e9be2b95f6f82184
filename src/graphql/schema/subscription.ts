import { Repeater } from 'graphql-yoga';
import { canSee } from '../../core/caller.js';
import { isTerminal, type Task } from '../../core/model.js';
import { builder } from './builder.js';
import { toGraphQLError } from './errors.js';
import { BackgroundTaskRef } from './task.js';

/** Marks a subscription to a task the caller cannot see; `resolve` turns it into NOT_FOUND. */
const NOT_FOUND = Symbol('not-found');
type Event = Task | typeof NOT_FOUND;

/**
 * The subscription's contract: the current snapshot first, then every committed change (and
 * queue moves while QUEUED), then completion after a terminal state. A reconnecting client
 * therefore misses nothing. Subscribing happens before the snapshot is read, so a change between
 * the two arrives as an event; versions older than what was sent are dropped.
 *
 * A missing task is an event, not a thrown error: thrown from `subscribe`, graphql-sse 2.6.1 turns
 * it into an HTTP 400 and the client never sees NOT_FOUND (test/e2e/subscription-not-found.test.ts).
 */
builder.subscriptionFields((t) => ({
  backgroundTaskUpdated: t.field({
    type: BackgroundTaskRef,
    description:
      'The task now, then each change of state, progress or queue position; completes after a final state.',
    args: { id: t.arg.id({ required: true, description: 'The task id.' }) },
    subscribe: (_root, { id }, ctx) =>
      new Repeater<Event>(async (push, stop) => {
        const updates = ctx.services.events.subscribe(String(id));
        stop.then(() => updates.return());
        const current = await ctx.services.tasks.get(ctx.caller, String(id));
        if (!current) {
          await push(NOT_FOUND);
          stop();
          return;
        }
        await push(current);
        if (isTerminal(current.state)) {
          stop();
          return;
        }
        let last = current.version;
        for await (const task of updates) {
          if (!canSee(ctx.caller, task) || task.version < last) continue;
          last = task.version;
          await push(task);
          if (isTerminal(task.state)) break;
        }
        stop();
      }),
    resolve: (event) => {
      if (event === NOT_FOUND) throw toGraphQLError({ kind: 'NOT_FOUND', message: 'No such task.' });
      return event;
    },
  }),
}));
