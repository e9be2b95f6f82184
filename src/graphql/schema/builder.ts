import SchemaBuilder from '@pothos/core';
import ComplexityPlugin from '@pothos/plugin-complexity';
import RelayPlugin from '@pothos/plugin-relay';
import type { FileUpload } from 'graphql-upload-minimal';
import { badInput } from '../../core/errors.js';
import type { GatewayContext } from './context.js';
import { toGraphQLError } from './errors.js';
import { decodeNodeId, encodeNodeId } from './global-ids.js';

/** Ids one `nodes` call may name, like a page of `backgroundTasks`: each is a store read. */
const MAX_NODE_IDS = 100;

/**
 * The one Pothos builder, with the Relay plugin for connections, the `Node` interface and
 * `node`/`nodes` (global ids: global-ids.ts). Each type family adds itself to it from its own
 * file; `index.ts` imports them all and builds the schema. A node type is added with
 * `builder.node(ref, { id, loadOne })`, and its `loadOne` answers null for another tenant's id.
 */
export const builder = new SchemaBuilder<{
  Context: GatewayContext;
  Scalars: {
    DateTime: { Input: Date; Output: Date | number };
    Upload: { Input: Promise<FileUpload>; Output: never };
  };
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
  DefaultInputFieldRequiredness: false;
}>({
  plugins: [RelayPlugin, ComplexityPlugin],
  defaultFieldNullability: false,
  // Each field costs 1, and a list multiplies what is selected under it by its size: by the
  // argument that sets it where there is one (`nodes(ids:)`, `backgroundTasks(first:)`), else by
  // its most (`images`, `batch.tasks`) or 10. The limits are use-cost-limit.ts's, per operation
  // and per HTTP request, checked before anything runs.
  complexity: { defaultComplexity: 1, defaultListMultiplier: 10 },
  relay: {
    encodeGlobalID: (typename, id) => encodeNodeId(typename, String(id)),
    decodeGlobalID: (globalId) => decodeNodeId(globalId, isNodeType),
    nodeTypeOptions: {
      description:
        'Anything with a global id: `node(id:)` fetches it again. A task’s global id is its own id (docs/clients.md).',
    },
    idFieldOptions: { description: 'The global id; for a task, the gateway’s task id.' },
    nodeQueryOptions: {
      description:
        'The object with this global id, if it is yours; null for an unknown id, another tenant’s or a malformed one.',
      args: { id: { description: 'A global id, e.g. a task id.' } },
    },
    nodesQueryOptions: {
      description:
        'The objects with these global ids, in the same order; null in each place where `node(id:)` would answer null.',
      args: { ids: { description: `Up to ${MAX_NODE_IDS} distinct global ids, e.g. task ids.` } },
      // Each id is answered in full: the cost counts every one (a repeat, refused below, included).
      complexity: (args) => ({ field: 1, multiplier: Array.isArray(args.ids) ? args.ids.length : 1 }),
      resolve: (_root, args, _ctx, _info, resolveNodes) => {
        if (args.ids.length > MAX_NODE_IDS) {
          throw toGraphQLError(badInput('TOO_MANY_IDS', ['ids'], `nodes takes at most ${MAX_NODE_IDS} ids.`));
        }
        // A repeated id would only make the same answer again: refused, so one request cannot
        // multiply one object's work and answer by naming it a hundred times (#27).
        // The ids arrive parsed (type and id), so they are compared by what they name.
        const repeated = args.ids.length - new Set(args.ids.map((id) => JSON.stringify(id))).size;
        if (repeated > 0) {
          throw toGraphQLError(
            badInput(
              'REPEATED_IDS',
              ['ids'],
              `nodes takes each id once; ${repeated} of the ids given repeat an earlier one. Ask for each once and reuse its answer.`,
            ),
          );
        }
        return resolveNodes(args.ids);
      },
    },
    edgesFieldOptions: {
      nullable: false,
      description: 'The tasks of this page.',
      // The connection field already multiplies by the page size.
      complexity: { field: 1, multiplier: 1 },
    },
    nodeFieldOptions: { nullable: false, description: 'The task.' },
    cursorFieldOptions: { description: 'Opaque cursor of this task.' },
    pageInfoFieldOptions: { description: 'Whether and how to get the next page.' },
    pageInfoTypeOptions: { description: 'Relay page information.' },
    hasNextPageFieldOptions: { description: 'Whether more tasks follow.' },
    hasPreviousPageFieldOptions: {
      description: 'Always false: pages go forward only, from the newest task (Relay requires the field).',
    },
    startCursorFieldOptions: { description: 'The cursor of the first task of this page.' },
    endCursorFieldOptions: { description: 'Pass as `after` to get the next page.' },
  },
});

/** Whether `typename` names a type of this schema that implements `Node`. */
function isNodeType(typename: string): boolean {
  if (!builder.configStore.hasImplementation(typename)) return false;
  const config = builder.configStore.getTypeConfig(typename);
  return (
    config.kind === 'Object' && (config.interfaces as readonly unknown[]).includes(builder.nodeInterfaceRef())
  );
}
