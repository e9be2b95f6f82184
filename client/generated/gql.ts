/* eslint-disable */
import * as types from './graphql.js';



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
    "fragment KitTaskFields on BackgroundTask {\n  id\n  state\n  stage\n  removeBackground\n  progress\n  queuePosition\n  estimatedStartAt\n  batchSize\n  prompt\n  sceneType\n  createdAt\n  completedAt\n  error {\n    code\n    message\n  }\n  images {\n    url\n    webpUrl: url(format: WEBP)\n    thumbnailUrl\n    width\n    height\n    contentType\n    bytes\n    expiresAt\n  }\n}\n\nmutation KitGenerate($input: GenerateBackgroundInput!) {\n  generateBackground(input: $input) {\n    ...KitTaskFields\n  }\n}\n\nsubscription KitFollow($id: ID!) {\n  backgroundTaskUpdated(id: $id) {\n    ...KitTaskFields\n  }\n}\n\nquery KitTask($id: ID!) {\n  backgroundTask(id: $id) {\n    ...KitTaskFields\n  }\n}\n\nquery KitTasks($first: Int!, $after: String, $state: BackgroundTaskState) {\n  backgroundTasks(first: $first, after: $after, state: $state) {\n    edges {\n      node {\n        ...KitTaskFields\n      }\n    }\n    pageInfo {\n      endCursor\n      hasNextPage\n    }\n  }\n}\n\nmutation KitCancel($id: ID!) {\n  cancelBackgroundTask(id: $id) {\n    ...KitTaskFields\n  }\n}\n\nmutation KitRemove($id: ID!) {\n  deleteBackgroundTask(id: $id)\n}\n\nquery KitSceneTypes {\n  sceneTypes {\n    id\n    name\n    description\n  }\n}": typeof types.KitTaskFieldsFragmentDoc,
};
const documents: Documents = {
    "fragment KitTaskFields on BackgroundTask {\n  id\n  state\n  stage\n  removeBackground\n  progress\n  queuePosition\n  estimatedStartAt\n  batchSize\n  prompt\n  sceneType\n  createdAt\n  completedAt\n  error {\n    code\n    message\n  }\n  images {\n    url\n    webpUrl: url(format: WEBP)\n    thumbnailUrl\n    width\n    height\n    contentType\n    bytes\n    expiresAt\n  }\n}\n\nmutation KitGenerate($input: GenerateBackgroundInput!) {\n  generateBackground(input: $input) {\n    ...KitTaskFields\n  }\n}\n\nsubscription KitFollow($id: ID!) {\n  backgroundTaskUpdated(id: $id) {\n    ...KitTaskFields\n  }\n}\n\nquery KitTask($id: ID!) {\n  backgroundTask(id: $id) {\n    ...KitTaskFields\n  }\n}\n\nquery KitTasks($first: Int!, $after: String, $state: BackgroundTaskState) {\n  backgroundTasks(first: $first, after: $after, state: $state) {\n    edges {\n      node {\n        ...KitTaskFields\n      }\n    }\n    pageInfo {\n      endCursor\n      hasNextPage\n    }\n  }\n}\n\nmutation KitCancel($id: ID!) {\n  cancelBackgroundTask(id: $id) {\n    ...KitTaskFields\n  }\n}\n\nmutation KitRemove($id: ID!) {\n  deleteBackgroundTask(id: $id)\n}\n\nquery KitSceneTypes {\n  sceneTypes {\n    id\n    name\n    description\n  }\n}": types.KitTaskFieldsFragmentDoc,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment KitTaskFields on BackgroundTask {\n  id\n  state\n  stage\n  removeBackground\n  progress\n  queuePosition\n  estimatedStartAt\n  batchSize\n  prompt\n  sceneType\n  createdAt\n  completedAt\n  error {\n    code\n    message\n  }\n  images {\n    url\n    webpUrl: url(format: WEBP)\n    thumbnailUrl\n    width\n    height\n    contentType\n    bytes\n    expiresAt\n  }\n}\n\nmutation KitGenerate($input: GenerateBackgroundInput!) {\n  generateBackground(input: $input) {\n    ...KitTaskFields\n  }\n}\n\nsubscription KitFollow($id: ID!) {\n  backgroundTaskUpdated(id: $id) {\n    ...KitTaskFields\n  }\n}\n\nquery KitTask($id: ID!) {\n  backgroundTask(id: $id) {\n    ...KitTaskFields\n  }\n}\n\nquery KitTasks($first: Int!, $after: String, $state: BackgroundTaskState) {\n  backgroundTasks(first: $first, after: $after, state: $state) {\n    edges {\n      node {\n        ...KitTaskFields\n      }\n    }\n    pageInfo {\n      endCursor\n      hasNextPage\n    }\n  }\n}\n\nmutation KitCancel($id: ID!) {\n  cancelBackgroundTask(id: $id) {\n    ...KitTaskFields\n  }\n}\n\nmutation KitRemove($id: ID!) {\n  deleteBackgroundTask(id: $id)\n}\n\nquery KitSceneTypes {\n  sceneTypes {\n    id\n    name\n    description\n  }\n}"): typeof import('./graphql.js').KitTaskFieldsFragmentDoc;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
