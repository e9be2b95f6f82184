/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** What the background should look like: exactly one of a prompt or a template id (otherwise BAD_USER_INPUT with reason ONE_OF_VIOLATION). */
export type BackgroundSpec = {
  /** Free text, up to 1024 characters; English works best. */
  prompt?: string | null | undefined;
  /** A template id; see `sceneTypes`. */
  sceneType?: number | null | undefined;
};

/** The step an unfinished task is in, or waits for. Null once the task is final (its `state` says how it ended). */
export type BackgroundTaskStage =
  /** PicWish removes the photo’s background (only with `removeBackground`); progress 0–20. */
  | 'CUTOUT'
  /** PicWish generates the background (progress 0–99, or 20–99 after a cutout); also while queued for it. */
  | 'GENERATING'
  /** PicWish finished; the gateway stores the results before SUCCEEDED. */
  | 'STORING';

/** Where a task stands. QUEUED and PROCESSING change; SUCCEEDED, FAILED and CANCELLED are final. */
export type BackgroundTaskState =
  /** Cancelled by its owner; nothing more happens. */
  | 'CANCELLED'
  /** Finished without results; `error` says why. */
  | 'FAILED'
  /** PicWish is preparing, waiting or processing (upstream states 2, 3, 4), or results are being stored. */
  | 'PROCESSING'
  /** Waiting to be sent to PicWish, or queued by PicWish (upstream state 0). */
  | 'QUEUED'
  /** Finished; `images` holds the stored results. */
  | 'SUCCEEDED';

/** Everything needed to generate backgrounds for one foreground image. */
export type GenerateBackgroundInput = {
  /** The prompt or template. */
  background: BackgroundSpec;
  /** How many variants to generate: 1 or 2. */
  batchSize?: number;
  /** If the task has not been sent to PicWish within this many seconds, it fails with DEADLINE_EXCEEDED instead. */
  deadlineSeconds?: number | null | undefined;
  /** Up to 255 characters. Sending the same key and input again within 24 hours returns the same task and spends nothing. */
  idempotencyKey?: string | null | undefined;
  /** The foreground image. */
  image: ImageSource;
  /** What to keep out of the background, up to 1024 characters. */
  negativePrompt?: string | null | undefined;
  /** Its lane in your share of PicWish: INTERACTIVE (someone is waiting) is sent before your BATCH work, which keeps a fifth of your share. Default INTERACTIVE for generateBackground, BATCH for the items of generateBackgrounds. */
  priority?: TaskPriority | null | undefined;
  /** The image is a photo with its background (JPEG, PNG or WebP): PicWish removes the background first (about 1 credit more, within the same QPS budget), and the background is generated for the cutout. The task goes through `stage` CUTOUT, then GENERATING and STORING. Without it, the image must be a transparent PNG. */
  removeBackground?: boolean | null | undefined;
  /** The states to announce; default the final ones (SUCCEEDED, FAILED, CANCELLED). */
  webhookEvents?: Array<BackgroundTaskState> | null | undefined;
  /** An absolute http(s) URL to POST the task to when it reaches one of `webhookEvents`: signed the Standard Webhooks way with your `viewer.webhookSecret`, retried for 24 hours (docs/webhooks.md). Its address must be public (BAD_USER_INPUT with reason URL_NOT_ALLOWED otherwise). */
  webhookUrl?: string | null | undefined;
};

/** The foreground: a transparent PNG, or with `removeBackground` a JPEG, PNG or WebP photo with its background. Exactly one of an upload or a URL (otherwise BAD_USER_INPUT with reason ONE_OF_VIOLATION). */
export type ImageSource = {
  /** The image itself, sent as a GraphQL multipart request (needs an `apollo-require-preflight` or `x-graphql-yoga-csrf` header). */
  file?: File | Blob | null | undefined;
  /** Downscale an image over 4096 px on a side or over PICWISH_MAX_IMAGE_BYTES (aspect ratio and alpha kept) instead of refusing it. Below 256 px is always refused. */
  fit?: boolean | null | undefined;
  /** An absolute http(s) URL of the image. The gateway fetches it once (private and loopback addresses refused) and checks it like an upload; PicWish only ever receives the file. */
  url?: string | null | undefined;
};

/** How a task waits for PicWish within its flow (its end user, or its tenant’s server-made tasks). Flows share each PicWish key fairly, by tenant weight and then equally among a tenant’s end users. */
export type TaskPriority =
  /** Background work: sent after the flow’s INTERACTIVE tasks, but never starved — it keeps at least a fifth of the flow’s slots. */
  | 'BATCH'
  /** Someone is waiting: sent before the flow’s BATCH work. */
  | 'INTERACTIVE';

export type KitTaskFieldsFragment = { id: string, state: BackgroundTaskState, stage: BackgroundTaskStage | null, removeBackground: boolean, progress: number, queuePosition: number | null, estimatedStartAt: string | null, batchSize: number, prompt: string | null, sceneType: number | null, createdAt: string, completedAt: string | null, error: { code: string, message: string } | null, images: Array<{ url: string, thumbnailUrl: string, width: number | null, height: number | null, contentType: string, bytes: number, expiresAt: string | null, webpUrl: string }> };

export type KitGenerateMutationVariables = Exact<{
  input: GenerateBackgroundInput;
}>;


export type KitGenerateMutation = { generateBackground: { id: string, state: BackgroundTaskState, stage: BackgroundTaskStage | null, removeBackground: boolean, progress: number, queuePosition: number | null, estimatedStartAt: string | null, batchSize: number, prompt: string | null, sceneType: number | null, createdAt: string, completedAt: string | null, error: { code: string, message: string } | null, images: Array<{ url: string, thumbnailUrl: string, width: number | null, height: number | null, contentType: string, bytes: number, expiresAt: string | null, webpUrl: string }> } };

export type KitFollowSubscriptionVariables = Exact<{
  id: string | number;
}>;


export type KitFollowSubscription = { backgroundTaskUpdated: { id: string, state: BackgroundTaskState, stage: BackgroundTaskStage | null, removeBackground: boolean, progress: number, queuePosition: number | null, estimatedStartAt: string | null, batchSize: number, prompt: string | null, sceneType: number | null, createdAt: string, completedAt: string | null, error: { code: string, message: string } | null, images: Array<{ url: string, thumbnailUrl: string, width: number | null, height: number | null, contentType: string, bytes: number, expiresAt: string | null, webpUrl: string }> } };

export type KitTaskQueryVariables = Exact<{
  id: string | number;
}>;


export type KitTaskQuery = { backgroundTask: { id: string, state: BackgroundTaskState, stage: BackgroundTaskStage | null, removeBackground: boolean, progress: number, queuePosition: number | null, estimatedStartAt: string | null, batchSize: number, prompt: string | null, sceneType: number | null, createdAt: string, completedAt: string | null, error: { code: string, message: string } | null, images: Array<{ url: string, thumbnailUrl: string, width: number | null, height: number | null, contentType: string, bytes: number, expiresAt: string | null, webpUrl: string }> } | null };

export type KitTasksQueryVariables = Exact<{
  first: number;
  after?: string | null | undefined;
  state?: BackgroundTaskState | null | undefined;
}>;


export type KitTasksQuery = { backgroundTasks: { edges: Array<{ node: { id: string, state: BackgroundTaskState, stage: BackgroundTaskStage | null, removeBackground: boolean, progress: number, queuePosition: number | null, estimatedStartAt: string | null, batchSize: number, prompt: string | null, sceneType: number | null, createdAt: string, completedAt: string | null, error: { code: string, message: string } | null, images: Array<{ url: string, thumbnailUrl: string, width: number | null, height: number | null, contentType: string, bytes: number, expiresAt: string | null, webpUrl: string }> } }>, pageInfo: { endCursor: string | null, hasNextPage: boolean } } };

export type KitCancelMutationVariables = Exact<{
  id: string | number;
}>;


export type KitCancelMutation = { cancelBackgroundTask: { id: string, state: BackgroundTaskState, stage: BackgroundTaskStage | null, removeBackground: boolean, progress: number, queuePosition: number | null, estimatedStartAt: string | null, batchSize: number, prompt: string | null, sceneType: number | null, createdAt: string, completedAt: string | null, error: { code: string, message: string } | null, images: Array<{ url: string, thumbnailUrl: string, width: number | null, height: number | null, contentType: string, bytes: number, expiresAt: string | null, webpUrl: string }> } | null };

export type KitRemoveMutationVariables = Exact<{
  id: string | number;
}>;


export type KitRemoveMutation = { deleteBackgroundTask: boolean };

export type KitSceneTypesQueryVariables = Exact<{ [key: string]: never; }>;


export type KitSceneTypesQuery = { sceneTypes: Array<{ id: number, name: string, description: string | null }> };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const KitTaskFieldsFragmentDoc = new TypedDocumentString(`
    fragment KitTaskFields on BackgroundTask {
  id
  state
  stage
  removeBackground
  progress
  queuePosition
  estimatedStartAt
  batchSize
  prompt
  sceneType
  createdAt
  completedAt
  error {
    code
    message
  }
  images {
    url
    webpUrl: url(format: WEBP)
    thumbnailUrl
    width
    height
    contentType
    bytes
    expiresAt
  }
}
    `, {"fragmentName":"KitTaskFields"}) as unknown as TypedDocumentString<KitTaskFieldsFragment, unknown>;
export const KitGenerateDocument = new TypedDocumentString(`
    mutation KitGenerate($input: GenerateBackgroundInput!) {
  generateBackground(input: $input) {
    ...KitTaskFields
  }
}
    fragment KitTaskFields on BackgroundTask {
  id
  state
  stage
  removeBackground
  progress
  queuePosition
  estimatedStartAt
  batchSize
  prompt
  sceneType
  createdAt
  completedAt
  error {
    code
    message
  }
  images {
    url
    webpUrl: url(format: WEBP)
    thumbnailUrl
    width
    height
    contentType
    bytes
    expiresAt
  }
}`) as unknown as TypedDocumentString<KitGenerateMutation, KitGenerateMutationVariables>;
export const KitFollowDocument = new TypedDocumentString(`
    subscription KitFollow($id: ID!) {
  backgroundTaskUpdated(id: $id) {
    ...KitTaskFields
  }
}
    fragment KitTaskFields on BackgroundTask {
  id
  state
  stage
  removeBackground
  progress
  queuePosition
  estimatedStartAt
  batchSize
  prompt
  sceneType
  createdAt
  completedAt
  error {
    code
    message
  }
  images {
    url
    webpUrl: url(format: WEBP)
    thumbnailUrl
    width
    height
    contentType
    bytes
    expiresAt
  }
}`) as unknown as TypedDocumentString<KitFollowSubscription, KitFollowSubscriptionVariables>;
export const KitTaskDocument = new TypedDocumentString(`
    query KitTask($id: ID!) {
  backgroundTask(id: $id) {
    ...KitTaskFields
  }
}
    fragment KitTaskFields on BackgroundTask {
  id
  state
  stage
  removeBackground
  progress
  queuePosition
  estimatedStartAt
  batchSize
  prompt
  sceneType
  createdAt
  completedAt
  error {
    code
    message
  }
  images {
    url
    webpUrl: url(format: WEBP)
    thumbnailUrl
    width
    height
    contentType
    bytes
    expiresAt
  }
}`) as unknown as TypedDocumentString<KitTaskQuery, KitTaskQueryVariables>;
export const KitTasksDocument = new TypedDocumentString(`
    query KitTasks($first: Int!, $after: String, $state: BackgroundTaskState) {
  backgroundTasks(first: $first, after: $after, state: $state) {
    edges {
      node {
        ...KitTaskFields
      }
    }
    pageInfo {
      endCursor
      hasNextPage
    }
  }
}
    fragment KitTaskFields on BackgroundTask {
  id
  state
  stage
  removeBackground
  progress
  queuePosition
  estimatedStartAt
  batchSize
  prompt
  sceneType
  createdAt
  completedAt
  error {
    code
    message
  }
  images {
    url
    webpUrl: url(format: WEBP)
    thumbnailUrl
    width
    height
    contentType
    bytes
    expiresAt
  }
}`) as unknown as TypedDocumentString<KitTasksQuery, KitTasksQueryVariables>;
export const KitCancelDocument = new TypedDocumentString(`
    mutation KitCancel($id: ID!) {
  cancelBackgroundTask(id: $id) {
    ...KitTaskFields
  }
}
    fragment KitTaskFields on BackgroundTask {
  id
  state
  stage
  removeBackground
  progress
  queuePosition
  estimatedStartAt
  batchSize
  prompt
  sceneType
  createdAt
  completedAt
  error {
    code
    message
  }
  images {
    url
    webpUrl: url(format: WEBP)
    thumbnailUrl
    width
    height
    contentType
    bytes
    expiresAt
  }
}`) as unknown as TypedDocumentString<KitCancelMutation, KitCancelMutationVariables>;
export const KitRemoveDocument = new TypedDocumentString(`
    mutation KitRemove($id: ID!) {
  deleteBackgroundTask(id: $id)
}
    `) as unknown as TypedDocumentString<KitRemoveMutation, KitRemoveMutationVariables>;
export const KitSceneTypesDocument = new TypedDocumentString(`
    query KitSceneTypes {
  sceneTypes {
    id
    name
    description
  }
}
    `) as unknown as TypedDocumentString<KitSceneTypesQuery, KitSceneTypesQueryVariables>;