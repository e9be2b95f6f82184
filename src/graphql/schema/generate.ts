import type { Readable } from 'node:stream';
import type { ImageInput } from '../../core/foreground.js';
import type { TaskPriority } from '../../core/model.js';
import type { GenerateParams } from '../../core/validation.js';
import { checkWaitSeconds, MAX_WAIT_SECONDS, waitUntilFinal } from '../../core/wait.js';
import { builder } from './builder.js';
import { toGraphQLError } from './errors.js';
import { BackgroundTaskRef, BackgroundTaskStateEnum, TaskPriorityEnum } from './task.js';

const ImageSourceInput = builder.inputType('ImageSource', {
  description:
    'The foreground: a transparent PNG, or with `removeBackground` a JPEG, PNG or WebP photo with its background. Exactly one of an upload or a URL (otherwise BAD_USER_INPUT with reason ONE_OF_VIOLATION).',
  fields: (t) => ({
    file: t.field({
      type: 'Upload',
      description:
        'The image itself, sent as a GraphQL multipart request (needs an `apollo-require-preflight` or `x-graphql-yoga-csrf` header).',
    }),
    url: t.string({
      description:
        'An absolute http(s) URL of the image. The gateway fetches it once (private and loopback addresses refused) and checks it like an upload; PicWish only ever receives the file.',
    }),
    fit: t.boolean({
      defaultValue: true,
      description:
        'Downscale an image over 4096 px on a side or over PICWISH_MAX_IMAGE_BYTES (aspect ratio and alpha kept) instead of refusing it. Below 256 px is always refused.',
    }),
  }),
});

const BackgroundSpecInput = builder.inputType('BackgroundSpec', {
  description:
    'What the background should look like: exactly one of a prompt or a template id (otherwise BAD_USER_INPUT with reason ONE_OF_VIOLATION).',
  fields: (t) => ({
    prompt: t.string({ description: 'Free text, up to 1024 characters; English works best.' }),
    sceneType: t.int({ description: 'A template id; see `sceneTypes`.' }),
  }),
});

/** The one input of a generation, taken alone by `generateBackground` and in lists by `generateBackgrounds`. */
export const GenerateBackgroundInput = builder.inputType('GenerateBackgroundInput', {
  description: 'Everything needed to generate backgrounds for one foreground image.',
  fields: (t) => ({
    image: t.field({ type: ImageSourceInput, required: true, description: 'The foreground image.' }),
    background: t.field({
      type: BackgroundSpecInput,
      required: true,
      description: 'The prompt or template.',
    }),
    negativePrompt: t.string({ description: 'What to keep out of the background, up to 1024 characters.' }),
    batchSize: t.int({
      required: true,
      defaultValue: 2,
      description: 'How many variants to generate: 1 or 2.',
    }),
    idempotencyKey: t.string({
      description:
        'Up to 255 characters. Sending the same key and input again within 24 hours returns the same task and spends nothing.',
    }),
    deadlineSeconds: t.int({
      description:
        'If the task has not been sent to PicWish within this many seconds, it fails with DEADLINE_EXCEEDED instead.',
    }),
    removeBackground: t.boolean({
      defaultValue: false,
      description:
        'The image is a photo with its background (JPEG, PNG or WebP): PicWish removes the background first (about 1 credit more, within the same QPS budget), and the background is generated for the cutout. The task goes through `stage` CUTOUT, then GENERATING and STORING. Without it, the image must be a transparent PNG.',
    }),
    webhookUrl: t.string({
      description:
        'An absolute http(s) URL to POST the task to when it reaches one of `webhookEvents`: signed the Standard Webhooks way with your `viewer.webhookSecret`, retried for 24 hours (docs/webhooks.md). Its address must be public (BAD_USER_INPUT with reason URL_NOT_ALLOWED otherwise).',
    }),
    webhookEvents: t.field({
      type: [BackgroundTaskStateEnum],
      description: 'The states to announce; default the final ones (SUCCEEDED, FAILED, CANCELLED).',
    }),
    priority: t.field({
      type: TaskPriorityEnum,
      description:
        'Its lane in your share of PicWish: INTERACTIVE (someone is waiting) is sent before your BATCH work, which keeps a fifth of your share. Default INTERACTIVE for generateBackground, BATCH for the items of generateBackgrounds.',
    }),
  }),
});

/** The input as the service takes it: the image opened by `open` (an upload) or a URL, and the rest. */
export function serviceInput(
  input: typeof GenerateBackgroundInput.$inferInput,
  open: (() => Promise<Readable>) | null,
  defaultPriority: TaskPriority,
  signal?: AbortSignal,
): { image: ImageInput; params: GenerateParams } {
  return {
    image: { file: open, url: input.image.url, fit: input.image.fit ?? true, ...(signal ? { signal } : {}) },
    params: {
      background: input.background,
      negativePrompt: input.negativePrompt,
      batchSize: input.batchSize,
      idempotencyKey: input.idempotencyKey,
      deadlineSeconds: input.deadlineSeconds,
      removeBackground: input.removeBackground,
      webhookUrl: input.webhookUrl,
      webhookEvents: input.webhookEvents,
      priority: input.priority ?? defaultPriority,
    },
  };
}

builder.mutationFields((t) => ({
  generateBackground: t.field({
    type: BackgroundTaskRef,
    description:
      'Validates the input and queues a task; returns at once in state QUEUED, or — with `waitSeconds` — once the task is final or that time is up, whichever comes first. Follow an unfinished task with `backgroundTaskUpdated` or `backgroundTask`.',
    args: {
      input: t.arg({ type: GenerateBackgroundInput, required: true }),
      waitSeconds: t.arg.int({
        description: `Wait up to this many seconds (0 to ${MAX_WAIT_SECONDS}) for a final state. On timeout the unfinished task comes back, not an error.`,
      }),
    },
    resolve: async (_root, { input, waitSeconds }, ctx) => {
      const wait = checkWaitSeconds(waitSeconds);
      if (!wait.ok) throw toGraphQLError(wait.error);
      const upload = input.image.file;
      const { image, params } = serviceInput(
        input,
        upload ? async () => (await upload).createReadStream() as unknown as Readable : null,
        'INTERACTIVE',
        ctx.signal,
      );
      const result = await ctx.services.tasks.generate(ctx.caller, image, params);
      if (!result.ok) throw toGraphQLError(result.error);
      const task = result.value;
      return waitUntilFinal(ctx.services.events, task, wait.value * 1000, () =>
        ctx.services.tasks.get(ctx.caller, task.id),
      );
    },
  }),
  cancelBackgroundTask: t.field({
    type: BackgroundTaskRef,
    nullable: true,
    description:
      'Cancels an unfinished task of yours: a queued one is never sent, a running one stops being polled. A finished task comes back unchanged (its state tells). Null if there is no such task.',
    args: { id: t.arg.id({ required: true, description: 'The task id.' }) },
    resolve: (_root, { id }, ctx) => ctx.services.tasks.cancel(ctx.caller, String(id)),
  }),
  deleteBackgroundTask: t.boolean({
    description: 'Deletes a task of yours and its stored images at once. False if there is no such task.',
    args: { id: t.arg.id({ required: true, description: 'The task id.' }) },
    resolve: (_root, { id }, ctx) => ctx.services.tasks.delete(ctx.caller, String(id)),
  }),
}));
