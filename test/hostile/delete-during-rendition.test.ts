import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { transparentPng } from '../support/fixtures.js';
import { eventually, type TestStack } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import { DELETE, generateTask } from '../support/task-ops.js';

/**
 * Issue #27 item 7: deleting a task while one of its renditions is being rendered answers without
 * an error, leaves none of its files behind (the rendition finished after the delete included), and
 * every link of the task answers 404 afterwards.
 */
const it = stackTest({ engine: { durationMs: 200 } });

/** Every file under the blob store's folder for `taskId`. */
function taskFiles(stack: TestStack, taskId: string): string[] {
  try {
    return readdirSync(join(stack.dataDir, 'blobs', 'results', taskId), { recursive: true }) as string[];
  } catch {
    return [];
  }
}

describe('deleting a task while a rendition of it renders', () => {
  it('answers true, removes every file, and its links answer 404', async ({ stack }) => {
    const { id } = await generateTask(stack, { png: await transparentPng(2048, 2048), batch: 1 });
    type Links = { url: string; slow: string; quick: string };
    const images = await eventually(async () => {
      const read = await stack.gql<{ backgroundTask: { state: string; images: Links[] } }>(
        `query($id: ID!) { backgroundTask(id: $id) { state images {
          url slow: url(format: AVIF, width: 4096) quick: url(format: WEBP, width: 64) } } }`,
        { id },
      );
      const task = read.body.data?.backgroundTask;
      return task?.state === 'SUCCEEDED' ? task.images : undefined;
    }, 30_000);
    const links = images[0] as Links;
    expect(taskFiles(stack, id).length).toBeGreaterThan(0);

    // The slow AVIF is asked first; once the quick WebP asked after it has arrived, the AVIF is rendering.
    const slow = fetch(links.slow);
    const quick = await fetch(links.quick);
    expect(quick.status).toBe(200);
    await quick.arrayBuffer();
    const deleted = await stack.gql<{ deleteBackgroundTask: boolean }>(DELETE, { id });
    expect(deleted.body.errors).toBeUndefined();
    expect(deleted.body.data?.deleteBackgroundTask).toBe(true);

    const rendered = await slow;
    await rendered.arrayBuffer();
    expect(rendered.status).toBe(404);
    expect(taskFiles(stack, id)).toEqual([]);
    for (const link of [links.url, links.slow, links.quick]) {
      const again = await fetch(link);
      await again.arrayBuffer();
      expect(again.status).toBe(404);
    }
    expect(taskFiles(stack, id)).toEqual([]);
  });
});
