import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Specs that wait on a real 2 requests/second budget, or start a cluster of processes, take half a
 * minute to a minute each. Started first they overlap the many short ones instead of trailing the
 * run. Vitest itself orders by the durations it cached last time, but a fresh clone, and each other
 * runtime's copy of the tree (scripts/with-node.sh), has no cache and would order by file size.
 */
const LONG_SPECS = [
  /\/test\/e2e\/cluster\//,
  /\/test\/e2e\/(upstream-budget|fair-share|idempotency-cancel|results|core-flow|browser)\.test\.ts$/,
  /\/test\/hostile\/stream-reservations\.test\.ts$/,
];

class LongSpecsFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const long = (file: TestSpecification) => LONG_SPECS.some((pattern) => pattern.test(file.moduleId));
    return [...sorted.filter(long), ...sorted.filter((file) => !long(file))];
  }
}

export default defineConfig({
  // Node resolves `graphql` to its CommonJS entry for Yoga and envelop; without this alias Vite
  // would hand our sources the `.mjs` build, a second GraphQLError class that `instanceof` checks
  // (error masking) do not recognise.
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: true,
    // Most specs wait on servers and timers, not the CPU: four workers keep both cores busy (one
    // runtime's run took 8 min 15 s with two, 5 min with four, on this 2-core machine).
    maxWorkers: 4,
    sequence: { sequencer: LongSpecsFirst },
  },
});
