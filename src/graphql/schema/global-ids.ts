/**
 * Relay global ids (issue #15) without changing the ids clients already hold. A task's id was a
 * UUID long before the `Node` interface, and it is used everywhere — `backgroundTask(id:)`,
 * `backgroundTaskUpdated(id:)`, the cursors, the client kit, stored references in callers'
 * databases — so `BackgroundTask`'s global id IS that UUID, unchanged.
 *
 * Every other node type (a `BackgroundBatch`, say) gets Relay's usual form, base64 of
 * `<Type>:<id>` — the one `@pothos/plugin-relay` and graphql-relay's `toGlobalId` make — so its
 * ids can never be taken for a task's. `node`/`nodes` also accept that form for a task
 * (`base64("BackgroundTask:<uuid>")`), for callers whose tooling builds ids that way.
 *
 * Anything that is not the typed form of a node type reads as a task id: an unknown or foreign
 * id then finds nothing and answers null, like any id the caller does not own.
 */

/** The node type whose global id is its own id, as it was before the `Node` interface. */
export const BARE_ID_TYPE = 'BackgroundTask';

const TYPED_FORM = /^([A-Z_a-z]\w*):(.+)$/s;
const BASE64 = /^(?:[\d+/A-Za-z]{4})*(?:[\d+/A-Za-z]{2}==|[\d+/A-Za-z]{3}=)?$/;

/** A global id taken apart: the node type it names and that type's own id. */
export interface NodeId {
  readonly typename: string;
  readonly id: string;
}

/** The global id of the `typename` object whose own id is `id`. */
export function encodeNodeId(typename: string, id: string): string {
  return typename === BARE_ID_TYPE ? id : Buffer.from(`${typename}:${id}`, 'utf8').toString('base64');
}

/**
 * Reads a global id. `isNodeType` says which names are node types of this schema: the typed form
 * of anything else (or no typed form at all) is read as a task's own id.
 */
export function decodeNodeId(globalId: string, isNodeType: (typename: string) => boolean): NodeId {
  const typed = BASE64.test(globalId)
    ? TYPED_FORM.exec(Buffer.from(globalId, 'base64').toString('utf8'))
    : null;
  if (typed && isNodeType(typed[1] as string))
    return { typename: typed[1] as string, id: typed[2] as string };
  return { typename: BARE_ID_TYPE, id: globalId };
}
