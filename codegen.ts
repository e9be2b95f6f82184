import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed documents for the operations the tests and the demo page send. `npm run codegen` first
 * prints schema/schema.graphql from the Pothos schema, then runs this; scripts/check-codegen.sh
 * fails when the committed output is stale.
 */
const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  documents: ['test/operations/*.graphql', 'src/http/demo/*.graphql'],
  ignoreNoDocuments: false,
  generates: {
    'src/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        emitLegacyCommonJSImports: false,
        scalars: { DateTime: 'string', Upload: 'File | Blob' },
        strictScalars: true,
      },
    },
  },
};

export default config;
