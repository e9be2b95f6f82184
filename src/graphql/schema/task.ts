// Over 300 lines on purpose: the BackgroundTask type family (task, images, cutout, error, priority,
// queue figures) is one file, as the Pothos example app keeps one file per type family.
import { creditsCharged, estimatedCredits } from '../../core/credits.js';
import { badInput } from '../../core/errors.js';
import {
  isWaitingToBeSent,
  priorityOf,
  stageOf,
  type Task,
  type TaskError,
  type TaskPriority,
  type TaskStage,
  type TaskState,
} from '../../core/model.js';
import {
  RENDITION_FORMATS,
  type RenditionSpec,
  renditionKey,
  renditionProblem,
} from '../../results/renditions.js';
import type { StoredImage } from '../../results/stored-image.js';
import { builder } from './builder.js';
import { toGraphQLError } from './errors.js';

/** The public states, in the order a task goes through them. */
export const BackgroundTaskStateEnum = builder.enumType('BackgroundTaskState', {
  description:
    'Where a task stands. QUEUED and PROCESSING change; SUCCEEDED, FAILED and CANCELLED are final.',
  values: {
    QUEUED: { description: 'Waiting to be sent to PicWish, or queued by PicWish (upstream state 0).' },
    PROCESSING: {
      description:
        'PicWish is preparing, waiting or processing (upstream states 2, 3, 4), or results are being stored.',
    },
    SUCCEEDED: { description: 'Finished; `images` holds the stored results.' },
    FAILED: { description: 'Finished without results; `error` says why.' },
    CANCELLED: { description: 'Cancelled by its owner; nothing more happens.' },
  } as const satisfies Record<TaskState, { description: string }>,
});

/** The steps of an unfinished task (#14); the field is null once the task is final. */
export const BackgroundTaskStageEnum = builder.enumType('BackgroundTaskStage', {
  description:
    'The step an unfinished task is in, or waits for. Null once the task is final (its `state` says how it ended).',
  values: {
    CUTOUT: {
      description: 'PicWish removes the photo’s background (only with `removeBackground`); progress 0–20.',
    },
    GENERATING: {
      description:
        'PicWish generates the background (progress 0–99, or 20–99 after a cutout); also while queued for it.',
    },
    STORING: { description: 'PicWish finished; the gateway stores the results before SUCCEEDED.' },
  } as const satisfies Record<TaskStage, { description: string }>,
});

/** A task's lane in its flow's fair share of PicWish (#25, src/scheduler/fair-queue.ts). */
export const TaskPriorityEnum = builder.enumType('TaskPriority', {
  description:
    'How a task waits for PicWish within its flow (its end user, or its tenant’s server-made tasks). Flows share each PicWish key fairly, by tenant weight and then equally among a tenant’s end users.',
  values: {
    INTERACTIVE: { description: 'Someone is waiting: sent before the flow’s BATCH work.' },
    BATCH: {
      description:
        'Background work: sent after the flow’s INTERACTIVE tasks, but never starved — it keeps at least a fifth of the flow’s slots.',
    },
  } as const satisfies Record<TaskPriority, { description: string }>,
});

const ImageFormatRef = builder.enumType('ImageFormat', {
  description: 'Encodings a result can be fetched in; JPEG has no alpha (flattened on white).',
  values: RENDITION_FORMATS,
});

const THUMBNAIL: RenditionSpec = { format: 'WEBP', width: 256, height: null };

const GeneratedImageRef = builder.objectRef<StoredImage>('GeneratedImage');
GeneratedImageRef.implement({
  description: 'One generated picture, stored by the gateway and served from its own signed URL.',
  fields: (t) => ({
    url: t.string({
      description:
        'Absolute, signed link to the stored image on this gateway, or to a rendition of it (made on first fetch, then stored): `format` (default the original PNG), `width`/`height` within 16..4096 px, each taken up to the next of the gateway’s steps (16, 32, 48, 64, 80, 96, 128, 160, 192, 256, 320, 400, 512, 640, 800, 1024, 1280, 1600, 2048, 2560, 3200, 4096; one side keeps the aspect ratio, both fit inside, never enlarged). Valid until `expiresAt`; query the task again for a fresh one.',
      args: {
        format: t.arg({ type: ImageFormatRef }),
        width: t.arg.int(),
        height: t.arg.int(),
      },
      resolve: (image, args, ctx) => {
        const spec = { format: args.format ?? 'PNG', width: args.width ?? null, height: args.height ?? null };
        const problem = renditionProblem(spec);
        if (problem) throw toGraphQLError(badInput('INVALID_RENDITION', ['url'], problem));
        return ctx.services.signer.sign(renditionKey(image.key, image.contentType, spec)).url;
      },
    }),
    thumbnailUrl: t.string({
      description: 'A 256-px-wide WebP of the image: the same as `url(format: WEBP, width: 256)`.',
      resolve: (image, _args, ctx) =>
        ctx.services.signer.sign(renditionKey(image.key, image.contentType, THUMBNAIL)).url,
    }),
    width: t.int({ nullable: true, description: 'Width in pixels.', resolve: (image) => image.width }),
    height: t.int({ nullable: true, description: 'Height in pixels.', resolve: (image) => image.height }),
    contentType: t.string({
      description: 'MIME type, e.g. image/png.',
      resolve: (image) => image.contentType,
    }),
    bytes: t.int({ description: 'Size in bytes.', resolve: (image) => image.bytes }),
    expiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When `url` stops working (the image itself is kept for RESULT_RETENTION_DAYS).',
      resolve: (image, _args, ctx) => ctx.services.signer.sign(image.key).expiresAt,
    }),
  }),
});

const TaskErrorRef = builder.objectRef<TaskError>('TaskError');
TaskErrorRef.implement({
  description: 'Why a task failed. `code` is stable (see the README’s error table); `message` is for people.',
  fields: (t) => ({
    code: t.exposeString('code', { description: 'Stable machine-readable cause, e.g. INVALID_IMAGE.' }),
    message: t.exposeString('message', { description: 'Human-readable explanation.' }),
  }),
});

/**
 * The task as the schema sees it: a Relay node whose global id is its own id (global-ids.ts), and
 * which `node(id:)` finds for its owner only — another tenant's task reads as null.
 */
export const BackgroundTaskRef = builder.objectRef<Task>('BackgroundTask');
builder.node(BackgroundTaskRef, {
  description:
    'A background generation task owned by the gateway; it outlives PicWish’s one-hour result links.',
  id: {
    resolve: (task) => task.id,
    description: 'The gateway’s id for the task, which is also its global id.',
  },
  loadOne: (id, ctx) => ctx.services.tasks.get(ctx.caller, id),
  fields: (t) => {
    // The record's optional figures, read as they are: null until PicWish (or the caller) gave them.
    const optionalString = (
      name: 'upstreamTaskId' | 'stateDetail' | 'prompt' | 'negativePrompt',
      description: string,
    ) => t.exposeString(name, { nullable: true, description });
    const optionalInt = (name: 'upstreamState' | 'sceneType' | 'timeElapsedMs', description: string) =>
      t.exposeInt(name, { nullable: true, description });
    const optionalTime = (name: 'processedAt' | 'completedAt', description: string) =>
      t.field({ type: 'DateTime', nullable: true, description, resolve: (task) => task[name] });
    return {
      upstreamTaskId: optionalString('upstreamTaskId', 'PicWish’s task id, once submitted.'),
      subject: t.string({
        nullable: true,
        description:
          'The end user whose session made the task (the `subject` of its session token or identity-provider JWT); null when made with a server key.',
        resolve: (task) => task.subject ?? null,
      }),
      state: t.field({
        type: BackgroundTaskStateEnum,
        description: 'Where the task stands.',
        resolve: (task) => task.state,
      }),
      upstreamState: optionalInt('upstreamState', 'PicWish’s raw `state` from the last poll.'),
      stateDetail: optionalString('stateDetail', 'PicWish’s `state_detail` from the last poll.'),
      stage: t.field({
        type: BackgroundTaskStageEnum,
        nullable: true,
        description: 'The step the task is in (CUTOUT, GENERATING, STORING); null once final.',
        resolve: (task) => stageOf(task),
      }),
      removeBackground: t.boolean({
        description:
          'Whether the task was created with `removeBackground` (the photo’s background is removed first).',
        resolve: (task) => Boolean(task.cutout),
      }),
      progress: t.exposeInt('progress', {
        description:
          'Progress from 0 to 100 over every step (with `removeBackground`, the cutout is the first 20); never goes down.',
      }),
      priority: t.field({
        type: TaskPriorityEnum,
        description:
          'Its lane in its flow’s share of PicWish (INTERACTIVE for tasks made before priorities).',
        resolve: (task) => priorityOf(task),
      }),
      queuePosition: t.int({
        nullable: true,
        description:
          '1-based place in the order the gateway will send waiting tasks of its PicWish key now (fair share by tenant, end user and priority, not arrival); null once sent. It can move back when a task of a quieter flow arrives.',
        resolve: (task, _args, ctx) =>
          isWaitingToBeSent(task) ? ctx.services.scheduler.queuePosition(task) : null,
      }),
      estimatedStartAt: t.field({
        type: 'DateTime',
        nullable: true,
        description:
          'A hint for when a queued task will be sent to PicWish: one budget slot per task ahead of it in `queuePosition`.',
        resolve: (task, _args, ctx) =>
          isWaitingToBeSent(task) ? ctx.services.scheduler.estimatedStartAt(task) : null,
      }),
      prompt: optionalString('prompt', 'The background prompt, if one was given.'),
      sceneType: optionalInt('sceneType', 'The template id, if one was given.'),
      negativePrompt: optionalString('negativePrompt', 'What the background should avoid.'),
      batchSize: t.exposeInt('batchSize', { description: 'How many images were asked for (1 or 2).' }),
      estimatedCredits: t.int({
        description:
          'What the task costs in PicWish credits if it succeeds: `batchSize` × PICWISH_CREDITS_PER_IMAGE, plus PICWISH_CUTOUT_CREDITS (1) for the background removal of a `removeBackground` task.',
        resolve: (task, _args, ctx) => estimatedCredits(task, ctx.services.credits),
      }),
      creditsCharged: t.int({
        nullable: true,
        description:
          'The PicWish credits the task spent, once final: per image produced (0 for FAILED or CANCELLED), plus PICWISH_CUTOUT_CREDITS (1) once a `removeBackground` task’s cutout came back, whatever followed. Null until then.',
        resolve: (task, _args, ctx) => creditsCharged(task, ctx.services.credits),
      }),
      createdAt: t.field({
        type: 'DateTime',
        description: 'When the gateway accepted the task.',
        resolve: (task) => task.createdAt,
      }),
      processedAt: optionalTime('processedAt', 'When PicWish started processing.'),
      completedAt: optionalTime('completedAt', 'When PicWish finished.'),
      timeElapsedMs: optionalInt('timeElapsedMs', 'PicWish’s processing time in milliseconds.'),
      images: t.field({
        type: [GeneratedImageRef],
        description: 'Stored results; empty until SUCCEEDED.',
        // At most batchSize (1 to 4) images.
        complexity: { field: 1, multiplier: 4 },
        resolve: (task) => (task.state === 'SUCCEEDED' ? task.images : []),
      }),
      error: t.field({
        type: TaskErrorRef,
        nullable: true,
        description: 'Why the task failed, when FAILED.',
        resolve: (task) => task.error,
      }),
    };
  },
});

/** What `backgroundTasks` resolves to besides the page: how to count every task it pages through. */
interface TaskCount {
  /** Asked only when the query selects `totalCount`: a page alone needs no count. */
  readonly totalCount: () => Promise<number>;
}

/**
 * `backgroundTasks`' page type, built by the Relay plugin (PageInfo included). The field itself
 * keeps its own arguments — `first` (default 20), `after`, `state` — because pages only go
 * forward; the plugin's `last`/`before` would be arguments the service cannot honour.
 */
const ConnectionRef = builder.connectionObject<typeof BackgroundTaskRef, TaskCount>(
  {
    type: BackgroundTaskRef,
    name: 'BackgroundTaskConnection',
    description: 'A page of the caller’s own tasks, newest first.',
    fields: (t) => ({
      totalCount: t.int({
        description:
          'How many of your tasks the connection pages through (with `state`, those in that state), whatever the page.',
        resolve: (page) => page.totalCount(),
      }),
    }),
  },
  { name: 'BackgroundTaskEdge', description: 'One task in a connection.' },
);

builder.queryFields((t) => ({
  backgroundTask: t.field({
    type: BackgroundTaskRef,
    nullable: true,
    description: 'A task of yours by id; null if there is none (another tenant’s tasks read as null too).',
    args: { id: t.arg.id({ required: true, description: 'The task id from generateBackground.' }) },
    resolve: (_root, { id }, ctx) => ctx.services.tasks.get(ctx.caller, String(id)),
  }),
  backgroundTasks: t.field({
    type: ConnectionRef,
    description: 'Your tasks, newest first.',
    // A page of `first` edges; the edges list itself then counts once (edgesFieldOptions).
    complexity: (args) => ({
      field: 1,
      multiplier: typeof args.first === 'number' ? Math.max(1, args.first) : 20,
    }),
    args: {
      first: t.arg.int({ defaultValue: 20, required: true, description: 'Page size, 1 to 100.' }),
      after: t.arg.string({ description: 'The endCursor of the previous page.' }),
      state: t.arg({ type: BackgroundTaskStateEnum, description: 'Only tasks in this state.' }),
      subject: t.arg.string({
        description:
          'Only this end user’s tasks (server keys; a session always sees only its own and this narrows nothing else).',
      }),
    },
    resolve: async (_root, args, ctx) => {
      const page = await ctx.services.tasks.list(
        ctx.caller,
        args.first,
        args.after ?? null,
        args.state ?? null,
        args.subject ?? null,
      );
      if (!page.ok) throw toGraphQLError(page.error);
      // The cursor is the task's id, as it always was: `after` takes it back unchanged.
      const { tasks, hasNextPage } = page.value;
      const state = args.state ?? null;
      return {
        totalCount: () => ctx.services.tasks.count(ctx.caller, state, args.subject ?? null),
        edges: tasks.map((task) => ({ cursor: task.id, node: task })),
        pageInfo: {
          hasNextPage,
          hasPreviousPage: false,
          startCursor: tasks[0]?.id ?? null,
          endCursor: tasks.at(-1)?.id ?? null,
        },
      };
    },
  }),
}));
