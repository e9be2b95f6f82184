import SchemaBuilder from '@pothos/core';
import RelayPlugin from '@pothos/plugin-relay';
import type { FileUpload } from 'graphql-upload-minimal';
import type { GatewayContext } from './context.js';

/**
 * The one Pothos builder, with the Relay plugin for connections. Each type family adds itself to
 * it from its own file; `index.ts` imports them all and builds the schema.
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
  plugins: [RelayPlugin],
  defaultFieldNullability: false,
  // Connections only (task.ts); no global `node` lookups, so task ids stay the gateway's own ids.
  relay: {
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    edgesFieldOptions: { nullable: false, description: 'The tasks of this page.' },
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
