import {
  type BatchItemResult,
  type BatchOutcome,
  type BatchView,
  batchCounts,
  isBatchDone,
  MAX_BATCH_ITEMS,
} from '../../core/batches.js';
import { INPUT_REASONS } from '../../core/errors.js';
import { batchUpload } from './batch-uploads.js';
import { builder } from './builder.js';
import { type ItemProblem, toGraphQLError, toItemProblems } from './errors.js';
import { GenerateBackgroundInput, serviceInput } from './generate.js';
import { decodeNodeId } from './global-ids.js';
import { BackgroundTaskRef } from './task.js';

/**
 * Batches (issue #15): `generateBackgrounds`, `batch(id)` and the `BackgroundBatch` node. The
 * subscription lives in batch-subscription.ts.
 */

const ItemProblemCodeEnum = builder.enumType('BatchItemProblemCode', {
  description: 'The `extensions.code` generateBackground would have answered for this input.',
  values: {
    BAD_USER_INPUT: { description: 'The input is wrong; `reason` and `field` say where.' },
    RATE_LIMITED: {
      description:
        'A per-tenant limit refused this item (limits count items); retry after `retryAfterSeconds`.',
    },
    QUOTA_EXCEEDED: {
      description:
        'A daily credit cap (TENANT_DAILY_CREDITS, SUBJECT_DAILY_CREDITS) refused this item; `resetsAt` says when the day ends.',
    },
    NOT_FOUND: { description: 'Not used for items today; listed so every refusal has its code.' },
    UNAUTHENTICATED: { description: 'Not used for items today; listed so every refusal has its code.' },
    FORBIDDEN: {
      description: 'The input needs a server key: a session may not set `webhookUrl` or `webhookEvents`.',
    },
  } as const satisfies Record<ItemProblem['code'], { description: string }>,
});

const InputProblemReasonEnum = builder.enumType('InputProblemReason', {
  description:
    'Why an input was refused: the `extensions.reason` of BAD_USER_INPUT (docs/errors.md explains each).',
  values: INPUT_REASONS,
});

const ItemProblemRef = builder.objectRef<ItemProblem>('BatchItemProblem');
ItemProblemRef.implement({
  description: 'One problem of one batch input, as generateBackground would have reported it.',
  fields: (t) => ({
    code: t.field({ type: ItemProblemCodeEnum, resolve: (p) => p.code, description: 'The kind of refusal.' }),
    reason: t.field({
      type: InputProblemReasonEnum,
      nullable: true,
      description: 'For BAD_USER_INPUT: the stable reason.',
      resolve: (p) => p.reason,
    }),
    field: t.exposeString('field', {
      nullable: true,
      description: 'For BAD_USER_INPUT: the path of the offending field, e.g. `inputs.3.image.file`.',
    }),
    message: t.exposeString('message', { description: 'Human-readable explanation.' }),
    retryAfterSeconds: t.exposeInt('retryAfterSeconds', {
      nullable: true,
      description: 'For RATE_LIMITED and QUOTA_EXCEEDED: when to try this item again.',
    }),
    resetsAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'For QUOTA_EXCEEDED: when the daily credit caps start afresh (midnight UTC).',
      resolve: (p) => p.resetsAt,
    }),
  }),
});

const ItemResultRef = builder.objectRef<BatchItemResult>('BackgroundBatchItem');
ItemResultRef.implement({
  description: 'What became of one input of generateBackgrounds: its task, or its problems.',
  fields: (t) => ({
    index: t.exposeInt('index', { description: 'The input’s position in `inputs`, from 0.' }),
    task: t.field({
      type: BackgroundTaskRef,
      nullable: true,
      description: 'The task made (or, with an idempotencyKey, replayed) for the input; null when refused.',
      resolve: (item) => item.task,
    }),
    problems: t.field({
      type: [ItemProblemRef],
      description: 'Why the input was refused; empty when it has a task.',
      resolve: (item) => (item.refusal ? toItemProblems(item.refusal, item.index) : []),
    }),
  }),
});

const CountsRef = builder.objectRef<BatchView>('BackgroundBatchCounts');
CountsRef.implement({
  description: 'A batch’s items by what became of them and by their tasks’ states now.',
  fields: (t) => {
    const count = (description: string, pick: (c: ReturnType<typeof batchCounts>) => number) =>
      t.int({ description, resolve: (view) => pick(batchCounts(view)) });
    return {
      total: count('Inputs in the batch.', (c) => c.total),
      accepted: count('Inputs that became tasks.', (c) => c.accepted),
      refused: count('Inputs refused with problems (no task, nothing spent).', (c) => c.refused),
      queued: count('Tasks QUEUED.', (c) => c.byState.QUEUED),
      processing: count('Tasks PROCESSING.', (c) => c.byState.PROCESSING),
      succeeded: count('Tasks SUCCEEDED.', (c) => c.byState.SUCCEEDED),
      failed: count('Tasks FAILED.', (c) => c.byState.FAILED),
      cancelled: count('Tasks CANCELLED.', (c) => c.byState.CANCELLED),
      deleted: count('Accepted inputs whose task was deleted since.', (c) => c.deleted),
    };
  },
});

/** A batch as the schema sees it: the record and its tasks as they are now. */
export const BackgroundBatchRef = builder.objectRef<BatchView>('BackgroundBatch');
builder.node(BackgroundBatchRef, {
  description: 'Many generateBackground inputs under one handle; each accepted input is an ordinary task.',
  id: { resolve: (view) => view.batch.id },
  // Another tenant's batch loads as null, as `batch(id)` answers.
  loadOne: (id, ctx) => ctx.services.batches.get(ctx.caller, id),
  fields: (t) => ({
    createdAt: t.field({
      type: 'DateTime',
      description: 'When the gateway accepted the batch.',
      resolve: (view) => view.batch.createdAt,
    }),
    subject: t.string({
      nullable: true,
      description: 'The end user whose session made the batch; null when made with a server key.',
      resolve: (view) => view.batch.subject ?? null,
    }),
    counts: t.field({ type: CountsRef, description: 'Items by outcome and state.', resolve: (view) => view }),
    done: t.boolean({
      description:
        'True once every accepted input’s task is final (or deleted): nothing will change any more.',
      resolve: (view) => isBatchDone(view),
    }),
    tasks: t.field({
      type: [BackgroundTaskRef],
      description: 'The tasks of the accepted inputs, in input order (deleted tasks left out).',
      complexity: { field: 1, multiplier: MAX_BATCH_ITEMS },
      resolve: (view) => view.tasks,
    }),
  }),
});

const PayloadRef = builder.objectRef<BatchOutcome>('GenerateBackgroundsPayload');
PayloadRef.implement({
  description: 'The answer of generateBackgrounds: one result per input, in order, and the batch.',
  fields: (t) => ({
    batch: t.field({ type: BackgroundBatchRef, description: 'The batch.', resolve: (o) => o.view }),
    results: t.field({
      type: [ItemResultRef],
      description: 'One entry per input, in the order of `inputs`.',
      complexity: { field: 1, multiplier: MAX_BATCH_ITEMS },
      resolve: (o) => o.results,
    }),
  }),
});

/**
 * The batch id a client sends: the node's global id as `BackgroundBatch.id` gives it (Relay's
 * typed form, global-ids.ts), or the bare id inside it.
 */
export function batchIdArgument(id: string): string {
  return decodeNodeId(id, (typename) => typename === 'BackgroundBatch').id;
}

builder.mutationFields((t) => ({
  generateBackgrounds: t.field({
    type: PayloadRef,
    description: `Up to ${MAX_BATCH_ITEMS} generateBackground inputs at once (uploads allowed: one multipart request with a file per input). Each input is checked and created as generateBackground would, and answered in \`results\` in order: its task, or its problems — one bad input does not sink the others. Tenant limits count inputs. Follow the batch with \`backgroundBatchUpdated\` or \`batch\`.`,
    args: {
      inputs: t.arg({
        type: [GenerateBackgroundInput],
        required: true,
        description: `1 to ${MAX_BATCH_ITEMS} inputs (otherwise BAD_USER_INPUT with reason INVALID_INPUT_COUNT).`,
      }),
      idempotencyKey: t.arg.string({
        description:
          'Up to 255 characters. The same key and inputs again within 24 hours return the same batch and results and spend nothing; other inputs under the key are refused (IDEMPOTENCY_KEY_REUSED).',
      }),
    },
    resolve: async (_root, { inputs, idempotencyKey }, ctx) => {
      const items = inputs.map((input) => {
        const upload = input.image.file ? batchUpload(input.image.file) : null;
        return {
          ...serviceInput(input, upload ? () => upload.open() : null, 'BATCH', ctx.signal),
          release: upload?.release,
        };
      });
      const result = await ctx.services.batches.generate(ctx.caller, items, idempotencyKey ?? null);
      if (!result.ok) throw toGraphQLError(result.error);
      return result.value;
    },
  }),
}));

builder.queryFields((t) => ({
  batch: t.field({
    type: BackgroundBatchRef,
    nullable: true,
    description: 'A batch of yours by id; null if there is none (another tenant’s batches read as null too).',
    args: { id: t.arg.id({ required: true, description: 'The id from generateBackgrounds’ `batch.id`.' }) },
    resolve: (_root, { id }, ctx) => ctx.services.batches.get(ctx.caller, batchIdArgument(String(id))),
  }),
}));

builder.objectFields(BackgroundTaskRef, (t) => ({
  batch: t.field({
    type: BackgroundBatchRef,
    nullable: true,
    description: 'The batch that created the task (generateBackgrounds); null for a task made alone.',
    resolve: (task, _args, ctx) => (task.batchId ? ctx.services.batches.get(ctx.caller, task.batchId) : null),
  }),
}));
