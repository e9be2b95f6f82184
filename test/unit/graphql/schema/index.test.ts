import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printSortedSchema } from '../../../../src/graphql/schema/index.js';

describe('schema/schema.graphql', () => {
  it('matches the schema the code builds (run `npm run codegen` after changing the schema)', () => {
    const committed = readFileSync(new URL('../../../../schema/schema.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(printSortedSchema());
  });

  it('contains the contract the clients rely on', () => {
    const sdl = printSortedSchema();
    for (const piece of [
      'input ImageSource {',
      'input BackgroundSpec {',
      'batchSize: Int! = 2',
      'backgroundTask(',
      'generateBackground(\n    input: GenerateBackgroundInput!',
      'waitSeconds: Int\n  ): BackgroundTask!',
      'backgroundTaskUpdated(',
      'type BackgroundTask implements Node {',
      'node(\n',
      'nodes(\n',
      'totalCount: Int!',
      'usage(\n',
      'tasksByState: TaskStateCounts!',
      'scalar Upload',
      'scalar DateTime',
    ]) {
      expect(sdl).toContain(piece);
    }
  });
});
