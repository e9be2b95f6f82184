import { test } from 'vitest';
import { startStack, type TestStack } from './harness.js';

/** What `startStack` takes: the engine's options and the gateway's settings. */
export type StackOptions = Parameters<typeof startStack>[0];

/**
 * A `test` with a `stack` fixture (vitest's `test.extend`): a gateway and its local engine started
 * with `options` when a test first asks for `stack`, and closed after it — once per file with
 * `scope: 'file'` (the tests of the file share it), else once per test. Specs use it instead of
 * their own `beforeAll`/`afterAll` pairs, so a failing start or a forgotten close cannot leak.
 * `options` may be a function, called at that start: settings that name a server the spec starts
 * in its `beforeAll` (an S3 server, a receiver, a database) are read once it runs.
 */
export function stackTest(
  options: StackOptions | (() => StackOptions) = {},
  scope: 'file' | 'test' = 'file',
) {
  return test.extend<{ stack: TestStack }>({
    stack: [
      // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern.
      async ({}, use) => {
        const stack = await startStack(typeof options === 'function' ? options() : options);
        try {
          await use(stack);
        } finally {
          await stack.close();
        }
      },
      { scope },
    ],
  });
}
