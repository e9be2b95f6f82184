/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
/** What the background should look like: exactly one of a prompt or a template id (otherwise BAD_USER_INPUT with reason ONE_OF_VIOLATION). */
export type BackgroundSpec = {
  /** Free text, up to 1024 characters; English works best. */
  prompt?: string | null | undefined;
  /** A template id; see `sceneTypes`. */
  sceneType?: number | null | undefined;
};

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

/** The `extensions.code` generateBackground would have answered for this input. */
export type BatchItemProblemCode =
  /** The input is wrong; `reason` and `field` say where. */
  | 'BAD_USER_INPUT'
  /** The input needs a server key: a session may not set `webhookUrl` or `webhookEvents`. */
  | 'FORBIDDEN'
  /** Not used for items today; listed so every refusal has its code. */
  | 'NOT_FOUND'
  /** A daily credit cap (TENANT_DAILY_CREDITS, SUBJECT_DAILY_CREDITS) refused this item; `resetsAt` says when the day ends. */
  | 'QUOTA_EXCEEDED'
  /** A per-tenant limit refused this item (limits count items); retry after `retryAfterSeconds`. */
  | 'RATE_LIMITED'
  /** Not used for items today; listed so every refusal has its code. */
  | 'UNAUTHENTICATED';

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

/** Why an input was refused: the `extensions.reason` of BAD_USER_INPUT (docs/errors.md explains each). */
export type InputProblemReason =
  | 'CORRUPT_IMAGE'
  | 'EMPTY_FILE'
  | 'EMPTY_FOREGROUND'
  | 'FILE_TOO_LARGE'
  | 'IDEMPOTENCY_KEY_INVALID'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'IMAGE_TOO_LARGE'
  | 'IMAGE_TOO_SMALL'
  | 'INVALID_BATCH_SIZE'
  | 'INVALID_CURSOR'
  | 'INVALID_DEADLINE'
  | 'INVALID_INPUT_COUNT'
  | 'INVALID_PAGE_SIZE'
  | 'INVALID_PERIOD'
  | 'INVALID_RENDITION'
  | 'INVALID_SUBJECT'
  | 'INVALID_TTL'
  | 'INVALID_URL'
  | 'INVALID_VARIABLE'
  | 'INVALID_WAIT_SECONDS'
  | 'NEGATIVE_PROMPT_TOO_LONG'
  | 'NOT_AN_IMAGE'
  | 'NOT_PNG'
  | 'NOT_TRANSPARENT'
  | 'NO_TRANSPARENT_PIXEL'
  | 'ONE_OF_VIOLATION'
  | 'PROMPT_EMPTY'
  | 'PROMPT_TOO_LONG'
  | 'REPEATED_IDS'
  | 'TOO_MANY_IDS'
  | 'UNSUPPORTED_IMAGE_FORMAT'
  | 'UPLOAD_MISSING'
  | 'URL_NOT_ALLOWED'
  | 'URL_TIMEOUT'
  | 'URL_TOO_LARGE'
  | 'URL_TOO_MANY_REDIRECTS'
  | 'URL_UNREACHABLE'
  | 'WEBHOOK_EVENTS_EMPTY'
  | 'WEBHOOK_URL_REQUIRED';

/** How a task waits for PicWish within its flow (its end user, or its tenant’s server-made tasks). Flows share each PicWish key fairly, by tenant weight and then equally among a tenant’s end users. */
export type TaskPriority =
  /** Background work: sent after the flow’s INTERACTIVE tasks, but never starved — it keeps at least a fifth of the flow’s slots. */
  | 'BATCH'
  /** Someone is waiting: sent before the flow’s BATCH work. */
  | 'INTERACTIVE';

export type GenerateBatchMutationVariables = Exact<{
  inputs: Array<GenerateBackgroundInput> | GenerateBackgroundInput;
  idempotencyKey?: string | null | undefined;
}>;


export type GenerateBatchMutation = { generateBackgrounds: { batch: { id: string, done: boolean, counts: { total: number, accepted: number, refused: number } }, results: Array<{ index: number, task: { id: string, state: BackgroundTaskState } | null, problems: Array<{ code: BatchItemProblemCode, reason: InputProblemReason | null, field: string | null, message: string, retryAfterSeconds: number | null }> }> } };

export type BatchByIdQueryVariables = Exact<{
  id: string | number;
}>;


export type BatchByIdQuery = { batch: { id: string, createdAt: string, done: boolean, counts: { total: number, accepted: number, refused: number, queued: number, processing: number, succeeded: number, failed: number, cancelled: number, deleted: number }, tasks: Array<{ id: string, state: BackgroundTaskState }> } | null };

export type FollowBatchSubscriptionVariables = Exact<{
  id: string | number;
}>;


export type FollowBatchSubscription = { backgroundBatchUpdated: { id: string, done: boolean, counts: { total: number, accepted: number, refused: number, queued: number, processing: number, succeeded: number, failed: number, cancelled: number, deleted: number } } };

export type AllCountsFragment = { total: number, accepted: number, refused: number, queued: number, processing: number, succeeded: number, failed: number, cancelled: number, deleted: number };

export type GenerateFromFileMutationVariables = Exact<{
  file: File | Blob;
  prompt: string;
}>;


export type GenerateFromFileMutation = { generateBackground: { id: string, state: BackgroundTaskState, queuePosition: number | null } };

export type FollowTaskSubscriptionVariables = Exact<{
  id: string | number;
}>;


export type FollowTaskSubscription = { backgroundTaskUpdated: { id: string, state: BackgroundTaskState, progress: number, images: Array<{ url: string, width: number | null, height: number | null, contentType: string }>, error: { code: string, message: string } | null } };

export type TaskByIdQueryVariables = Exact<{
  id: string | number;
}>;


export type TaskByIdQuery = { backgroundTask: { id: string, state: BackgroundTaskState, progress: number } | null };

export type SceneTypesQueryVariables = Exact<{ [key: string]: never; }>;


export type SceneTypesQuery = { sceneTypes: Array<{ id: number, name: string }> };

export type TaskNodeQueryVariables = Exact<{
  id: string | number;
}>;


export type TaskNodeQuery = { node:
    | { id: string }
    | { state: BackgroundTaskState, progress: number, id: string }
   | null };

export type ViewerUsageQueryVariables = Exact<{
  from?: string | null | undefined;
  to?: string | null | undefined;
}>;


export type ViewerUsageQuery = { viewer: { name: string, usage: { from: string, to: string, imagesGenerated: number, creditsCharged: number, tasksByState: { queued: number, processing: number, succeeded: number, failed: number, cancelled: number, total: number } } } };

export const AllCountsFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"AllCounts"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"BackgroundBatchCounts"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"total"}},{"kind":"Field","name":{"kind":"Name","value":"accepted"}},{"kind":"Field","name":{"kind":"Name","value":"refused"}},{"kind":"Field","name":{"kind":"Name","value":"queued"}},{"kind":"Field","name":{"kind":"Name","value":"processing"}},{"kind":"Field","name":{"kind":"Name","value":"succeeded"}},{"kind":"Field","name":{"kind":"Name","value":"failed"}},{"kind":"Field","name":{"kind":"Name","value":"cancelled"}},{"kind":"Field","name":{"kind":"Name","value":"deleted"}}]}}]} as unknown as DocumentNode<AllCountsFragment, unknown>;
export const GenerateBatchDocument = {"__meta__":{"hash":"sha256:04e207d9e2a90b72d6194e7c00dfd62012e49255648eee2c796ce188e3bc30cd"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"GenerateBatch"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"inputs"}},"type":{"kind":"NonNullType","type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"GenerateBackgroundInput"}}}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"idempotencyKey"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"generateBackgrounds"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"inputs"},"value":{"kind":"Variable","name":{"kind":"Name","value":"inputs"}}},{"kind":"Argument","name":{"kind":"Name","value":"idempotencyKey"},"value":{"kind":"Variable","name":{"kind":"Name","value":"idempotencyKey"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"batch"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"done"}},{"kind":"Field","name":{"kind":"Name","value":"counts"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"total"}},{"kind":"Field","name":{"kind":"Name","value":"accepted"}},{"kind":"Field","name":{"kind":"Name","value":"refused"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"results"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"index"}},{"kind":"Field","name":{"kind":"Name","value":"task"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"state"}}]}},{"kind":"Field","name":{"kind":"Name","value":"problems"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"reason"}},{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}}]}}]}}]}}]} as unknown as DocumentNode<GenerateBatchMutation, GenerateBatchMutationVariables>;
export const BatchByIdDocument = {"__meta__":{"hash":"sha256:d5d4f9d128147c9311f531a74af947be6bdacd2b65e44a282df06cd566a00d60"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"BatchById"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"batch"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"done"}},{"kind":"Field","name":{"kind":"Name","value":"counts"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"AllCounts"}}]}},{"kind":"Field","name":{"kind":"Name","value":"tasks"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"state"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"AllCounts"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"BackgroundBatchCounts"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"total"}},{"kind":"Field","name":{"kind":"Name","value":"accepted"}},{"kind":"Field","name":{"kind":"Name","value":"refused"}},{"kind":"Field","name":{"kind":"Name","value":"queued"}},{"kind":"Field","name":{"kind":"Name","value":"processing"}},{"kind":"Field","name":{"kind":"Name","value":"succeeded"}},{"kind":"Field","name":{"kind":"Name","value":"failed"}},{"kind":"Field","name":{"kind":"Name","value":"cancelled"}},{"kind":"Field","name":{"kind":"Name","value":"deleted"}}]}}]} as unknown as DocumentNode<BatchByIdQuery, BatchByIdQueryVariables>;
export const FollowBatchDocument = {"__meta__":{"hash":"sha256:68c22e6499624c26912901c0a17c8021af6b816f633c0ceb3956abce47a9191a"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"FollowBatch"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"backgroundBatchUpdated"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"done"}},{"kind":"Field","name":{"kind":"Name","value":"counts"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"AllCounts"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"AllCounts"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"BackgroundBatchCounts"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"total"}},{"kind":"Field","name":{"kind":"Name","value":"accepted"}},{"kind":"Field","name":{"kind":"Name","value":"refused"}},{"kind":"Field","name":{"kind":"Name","value":"queued"}},{"kind":"Field","name":{"kind":"Name","value":"processing"}},{"kind":"Field","name":{"kind":"Name","value":"succeeded"}},{"kind":"Field","name":{"kind":"Name","value":"failed"}},{"kind":"Field","name":{"kind":"Name","value":"cancelled"}},{"kind":"Field","name":{"kind":"Name","value":"deleted"}}]}}]} as unknown as DocumentNode<FollowBatchSubscription, FollowBatchSubscriptionVariables>;
export const GenerateFromFileDocument = {"__meta__":{"hash":"sha256:445e68e17d5a58891f35259ad9517a4a3828b83c84ebb5b85e24cc6ca0cd6931"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"GenerateFromFile"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"file"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Upload"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"prompt"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"generateBackground"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"image"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"file"},"value":{"kind":"Variable","name":{"kind":"Name","value":"file"}}}]}},{"kind":"ObjectField","name":{"kind":"Name","value":"background"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"prompt"},"value":{"kind":"Variable","name":{"kind":"Name","value":"prompt"}}}]}},{"kind":"ObjectField","name":{"kind":"Name","value":"batchSize"},"value":{"kind":"IntValue","value":"2"}}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"queuePosition"}}]}}]}}]} as unknown as DocumentNode<GenerateFromFileMutation, GenerateFromFileMutationVariables>;
export const FollowTaskDocument = {"__meta__":{"hash":"sha256:6c8b59d1ea8a57c1313f88d4bb5eb289b8caab600fe0ba99f0e78c4519f6cbb4"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"FollowTask"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"backgroundTaskUpdated"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}},{"kind":"Field","name":{"kind":"Name","value":"images"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"url"}},{"kind":"Field","name":{"kind":"Name","value":"width"}},{"kind":"Field","name":{"kind":"Name","value":"height"}},{"kind":"Field","name":{"kind":"Name","value":"contentType"}}]}},{"kind":"Field","name":{"kind":"Name","value":"error"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]}}]} as unknown as DocumentNode<FollowTaskSubscription, FollowTaskSubscriptionVariables>;
export const TaskByIdDocument = {"__meta__":{"hash":"sha256:f38569b1ea1aeda742623b33ae80f785bf5b23c282411fa655b33df7578d7f91"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"TaskById"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"backgroundTask"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}}]}}]}}]} as unknown as DocumentNode<TaskByIdQuery, TaskByIdQueryVariables>;
export const SceneTypesDocument = {"__meta__":{"hash":"sha256:66247f167e3f0c257a354e9a852e75705800662104541cfafcd7506847ac1192"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"SceneTypes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"sceneTypes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]} as unknown as DocumentNode<SceneTypesQuery, SceneTypesQueryVariables>;
export const TaskNodeDocument = {"__meta__":{"hash":"sha256:c422209003a89218d271b5e923f266c2f9b7aa3ae4d21f48ea72a98377888ae9"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"TaskNode"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"BackgroundTask"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}}]}}]}}]}}]} as unknown as DocumentNode<TaskNodeQuery, TaskNodeQueryVariables>;
export const ViewerUsageDocument = {"__meta__":{"hash":"sha256:ea7356b0ad8969520515199e7e8c706892f5975cf06ebdfe21a0aab05a78ba36"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ViewerUsage"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"from"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"DateTime"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"to"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"DateTime"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"viewer"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"usage"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"from"},"value":{"kind":"Variable","name":{"kind":"Name","value":"from"}}},{"kind":"Argument","name":{"kind":"Name","value":"to"},"value":{"kind":"Variable","name":{"kind":"Name","value":"to"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"from"}},{"kind":"Field","name":{"kind":"Name","value":"to"}},{"kind":"Field","name":{"kind":"Name","value":"imagesGenerated"}},{"kind":"Field","name":{"kind":"Name","value":"creditsCharged"}},{"kind":"Field","name":{"kind":"Name","value":"tasksByState"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"queued"}},{"kind":"Field","name":{"kind":"Name","value":"processing"}},{"kind":"Field","name":{"kind":"Name","value":"succeeded"}},{"kind":"Field","name":{"kind":"Name","value":"failed"}},{"kind":"Field","name":{"kind":"Name","value":"cancelled"}},{"kind":"Field","name":{"kind":"Name","value":"total"}}]}}]}}]}}]}}]} as unknown as DocumentNode<ViewerUsageQuery, ViewerUsageQueryVariables>;