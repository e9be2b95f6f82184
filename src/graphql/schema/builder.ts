import SchemaBuilder from '@pothos/core';
import type { FileUpload } from 'graphql-upload-minimal';
import type { GatewayContext } from './context.js';

/**
 * The one Pothos builder. Each type family adds itself to it from its own file; `index.ts`
 * imports them all and builds the schema.
 */
export const builder = new SchemaBuilder<{
  Context: GatewayContext;
  Scalars: {
    DateTime: { Input: Date; Output: Date | number };
    Upload: { Input: Promise<FileUpload>; Output: never };
  };
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: false;
}>({
  defaultFieldNullability: false,
});
