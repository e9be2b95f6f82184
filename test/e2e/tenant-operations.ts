/** The task operations the tenant specs (gateway keys, isolation, limits) send as one tenant or another. */

export const TASK = 'query Task($id: ID!) { backgroundTask(id: $id) { id state } }';
export const SUBSCRIBE = 'subscription Follow($id: ID!) { backgroundTaskUpdated(id: $id) { id state } }';
export const CANCEL = 'mutation Cancel($id: ID!) { cancelBackgroundTask(id: $id) { id state } }';
export const DELETE = 'mutation Delete($id: ID!) { deleteBackgroundTask(id: $id) }';
