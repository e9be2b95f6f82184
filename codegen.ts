import type { CodegenConfig } from '@graphql-codegen/cli';

/** Settings both outputs share: type-only imports, enums as string unions, the scalars as TS types. */
const shared = {
  useTypeImports: true,
  enumsAsTypes: true,
  emitLegacyCommonJSImports: false,
  scalars: { DateTime: 'string', Upload: 'File | Blob' },
  strictScalars: true,
} as const;

/**
 * Typed documents for the operations the tests send, and for the client kit (client/): the kit
 * gets document strings (`documentMode: 'string'`) so that it needs no graphql runtime in a browser. `npm run codegen` first
 * prints schema/schema.graphql from the Pothos schema, then runs this; scripts/check-codegen.sh
 * fails when the committed output is stale.
 */
const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  ignoreNoDocuments: false,
  generates: {
    'test/generated/': {
      documents: ['test/operations/*.graphql'],
      preset: 'client',
      // Test code only, so it lives under test/ and stays out of dist/. persisted-documents.json
      // (sha256 → document): the trusted documents the tests load with PERSISTED_OPERATIONS_FILE
      // (src/graphql/plugins/use-trusted-documents.ts).
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: 'sha256' } },
      config: shared,
    },
    'client/generated/': {
      documents: ['client/operations.graphql'],
      preset: 'client',
      presetConfig: { fragmentMasking: false, gqlTagName: 'graphql' },
      config: { ...shared, documentMode: 'string' },
    },
  },
};

export default config;
