/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "mutation GenerateBatch($inputs: [GenerateBackgroundInput!]!, $idempotencyKey: String) {\n  generateBackgrounds(inputs: $inputs, idempotencyKey: $idempotencyKey) {\n    batch {\n      id\n      done\n      counts {\n        total\n        accepted\n        refused\n      }\n    }\n    results {\n      index\n      task {\n        id\n        state\n      }\n      problems {\n        code\n        reason\n        field\n        message\n        retryAfterSeconds\n      }\n    }\n  }\n}\n\nquery BatchById($id: ID!) {\n  batch(id: $id) {\n    id\n    createdAt\n    done\n    counts {\n      ...AllCounts\n    }\n    tasks {\n      id\n      state\n    }\n  }\n}\n\nsubscription FollowBatch($id: ID!) {\n  backgroundBatchUpdated(id: $id) {\n    id\n    done\n    counts {\n      ...AllCounts\n    }\n  }\n}\n\nfragment AllCounts on BackgroundBatchCounts {\n  total\n  accepted\n  refused\n  queued\n  processing\n  succeeded\n  failed\n  cancelled\n  deleted\n}": typeof types.GenerateBatchDocument,
    "mutation GenerateFromFile($file: Upload!, $prompt: String!) {\n  generateBackground(\n    input: {image: {file: $file}, background: {prompt: $prompt}, batchSize: 2}\n  ) {\n    id\n    state\n    queuePosition\n  }\n}\n\nsubscription FollowTask($id: ID!) {\n  backgroundTaskUpdated(id: $id) {\n    id\n    state\n    progress\n    images {\n      url\n      width\n      height\n      contentType\n    }\n    error {\n      code\n      message\n    }\n  }\n}\n\nquery TaskById($id: ID!) {\n  backgroundTask(id: $id) {\n    id\n    state\n    progress\n  }\n}\n\nquery SceneTypes {\n  sceneTypes {\n    id\n    name\n  }\n}\n\nquery TaskNode($id: ID!) {\n  node(id: $id) {\n    id\n    ... on BackgroundTask {\n      state\n      progress\n    }\n  }\n}\n\nquery ViewerUsage($from: DateTime, $to: DateTime) {\n  viewer {\n    name\n    usage(from: $from, to: $to) {\n      from\n      to\n      imagesGenerated\n      creditsCharged\n      tasksByState {\n        queued\n        processing\n        succeeded\n        failed\n        cancelled\n        total\n      }\n    }\n  }\n}": typeof types.GenerateFromFileDocument,
};
const documents: Documents = {
    "mutation GenerateBatch($inputs: [GenerateBackgroundInput!]!, $idempotencyKey: String) {\n  generateBackgrounds(inputs: $inputs, idempotencyKey: $idempotencyKey) {\n    batch {\n      id\n      done\n      counts {\n        total\n        accepted\n        refused\n      }\n    }\n    results {\n      index\n      task {\n        id\n        state\n      }\n      problems {\n        code\n        reason\n        field\n        message\n        retryAfterSeconds\n      }\n    }\n  }\n}\n\nquery BatchById($id: ID!) {\n  batch(id: $id) {\n    id\n    createdAt\n    done\n    counts {\n      ...AllCounts\n    }\n    tasks {\n      id\n      state\n    }\n  }\n}\n\nsubscription FollowBatch($id: ID!) {\n  backgroundBatchUpdated(id: $id) {\n    id\n    done\n    counts {\n      ...AllCounts\n    }\n  }\n}\n\nfragment AllCounts on BackgroundBatchCounts {\n  total\n  accepted\n  refused\n  queued\n  processing\n  succeeded\n  failed\n  cancelled\n  deleted\n}": types.GenerateBatchDocument,
    "mutation GenerateFromFile($file: Upload!, $prompt: String!) {\n  generateBackground(\n    input: {image: {file: $file}, background: {prompt: $prompt}, batchSize: 2}\n  ) {\n    id\n    state\n    queuePosition\n  }\n}\n\nsubscription FollowTask($id: ID!) {\n  backgroundTaskUpdated(id: $id) {\n    id\n    state\n    progress\n    images {\n      url\n      width\n      height\n      contentType\n    }\n    error {\n      code\n      message\n    }\n  }\n}\n\nquery TaskById($id: ID!) {\n  backgroundTask(id: $id) {\n    id\n    state\n    progress\n  }\n}\n\nquery SceneTypes {\n  sceneTypes {\n    id\n    name\n  }\n}\n\nquery TaskNode($id: ID!) {\n  node(id: $id) {\n    id\n    ... on BackgroundTask {\n      state\n      progress\n    }\n  }\n}\n\nquery ViewerUsage($from: DateTime, $to: DateTime) {\n  viewer {\n    name\n    usage(from: $from, to: $to) {\n      from\n      to\n      imagesGenerated\n      creditsCharged\n      tasksByState {\n        queued\n        processing\n        succeeded\n        failed\n        cancelled\n        total\n      }\n    }\n  }\n}": types.GenerateFromFileDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation GenerateBatch($inputs: [GenerateBackgroundInput!]!, $idempotencyKey: String) {\n  generateBackgrounds(inputs: $inputs, idempotencyKey: $idempotencyKey) {\n    batch {\n      id\n      done\n      counts {\n        total\n        accepted\n        refused\n      }\n    }\n    results {\n      index\n      task {\n        id\n        state\n      }\n      problems {\n        code\n        reason\n        field\n        message\n        retryAfterSeconds\n      }\n    }\n  }\n}\n\nquery BatchById($id: ID!) {\n  batch(id: $id) {\n    id\n    createdAt\n    done\n    counts {\n      ...AllCounts\n    }\n    tasks {\n      id\n      state\n    }\n  }\n}\n\nsubscription FollowBatch($id: ID!) {\n  backgroundBatchUpdated(id: $id) {\n    id\n    done\n    counts {\n      ...AllCounts\n    }\n  }\n}\n\nfragment AllCounts on BackgroundBatchCounts {\n  total\n  accepted\n  refused\n  queued\n  processing\n  succeeded\n  failed\n  cancelled\n  deleted\n}"): (typeof documents)["mutation GenerateBatch($inputs: [GenerateBackgroundInput!]!, $idempotencyKey: String) {\n  generateBackgrounds(inputs: $inputs, idempotencyKey: $idempotencyKey) {\n    batch {\n      id\n      done\n      counts {\n        total\n        accepted\n        refused\n      }\n    }\n    results {\n      index\n      task {\n        id\n        state\n      }\n      problems {\n        code\n        reason\n        field\n        message\n        retryAfterSeconds\n      }\n    }\n  }\n}\n\nquery BatchById($id: ID!) {\n  batch(id: $id) {\n    id\n    createdAt\n    done\n    counts {\n      ...AllCounts\n    }\n    tasks {\n      id\n      state\n    }\n  }\n}\n\nsubscription FollowBatch($id: ID!) {\n  backgroundBatchUpdated(id: $id) {\n    id\n    done\n    counts {\n      ...AllCounts\n    }\n  }\n}\n\nfragment AllCounts on BackgroundBatchCounts {\n  total\n  accepted\n  refused\n  queued\n  processing\n  succeeded\n  failed\n  cancelled\n  deleted\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation GenerateFromFile($file: Upload!, $prompt: String!) {\n  generateBackground(\n    input: {image: {file: $file}, background: {prompt: $prompt}, batchSize: 2}\n  ) {\n    id\n    state\n    queuePosition\n  }\n}\n\nsubscription FollowTask($id: ID!) {\n  backgroundTaskUpdated(id: $id) {\n    id\n    state\n    progress\n    images {\n      url\n      width\n      height\n      contentType\n    }\n    error {\n      code\n      message\n    }\n  }\n}\n\nquery TaskById($id: ID!) {\n  backgroundTask(id: $id) {\n    id\n    state\n    progress\n  }\n}\n\nquery SceneTypes {\n  sceneTypes {\n    id\n    name\n  }\n}\n\nquery TaskNode($id: ID!) {\n  node(id: $id) {\n    id\n    ... on BackgroundTask {\n      state\n      progress\n    }\n  }\n}\n\nquery ViewerUsage($from: DateTime, $to: DateTime) {\n  viewer {\n    name\n    usage(from: $from, to: $to) {\n      from\n      to\n      imagesGenerated\n      creditsCharged\n      tasksByState {\n        queued\n        processing\n        succeeded\n        failed\n        cancelled\n        total\n      }\n    }\n  }\n}"): (typeof documents)["mutation GenerateFromFile($file: Upload!, $prompt: String!) {\n  generateBackground(\n    input: {image: {file: $file}, background: {prompt: $prompt}, batchSize: 2}\n  ) {\n    id\n    state\n    queuePosition\n  }\n}\n\nsubscription FollowTask($id: ID!) {\n  backgroundTaskUpdated(id: $id) {\n    id\n    state\n    progress\n    images {\n      url\n      width\n      height\n      contentType\n    }\n    error {\n      code\n      message\n    }\n  }\n}\n\nquery TaskById($id: ID!) {\n  backgroundTask(id: $id) {\n    id\n    state\n    progress\n  }\n}\n\nquery SceneTypes {\n  sceneTypes {\n    id\n    name\n  }\n}\n\nquery TaskNode($id: ID!) {\n  node(id: $id) {\n    id\n    ... on BackgroundTask {\n      state\n      progress\n    }\n  }\n}\n\nquery ViewerUsage($from: DateTime, $to: DateTime) {\n  viewer {\n    name\n    usage(from: $from, to: $to) {\n      from\n      to\n      imagesGenerated\n      creditsCharged\n      tasksByState {\n        queued\n        processing\n        succeeded\n        failed\n        cancelled\n        total\n      }\n    }\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;