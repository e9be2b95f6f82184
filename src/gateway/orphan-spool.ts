import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskStore } from '../core/store.js';

/**
 * Removes uploads whose task is gone or finished: leftovers of a crash, since the spool holds
 * nothing else. Files younger than `graceMs` stay, because in a cluster another process may be
 * spooling an upload right now.
 */
export async function removeOrphanSpoolFiles(
  spoolDir: string,
  store: TaskStore,
  graceMs: number,
): Promise<void> {
  const live = new Set<string>();
  for (const task of await store.listUnfinished()) {
    if (task.source.kind === 'file') live.add(task.source.spoolPath);
  }
  const cutoff = Date.now() - graceMs;
  for (const name of readdirSync(spoolDir)) {
    const path = join(spoolDir, name);
    if (live.has(path)) continue;
    if (graceMs > 0 && (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0) > cutoff) continue;
    rmSync(path, { force: true });
  }
}
