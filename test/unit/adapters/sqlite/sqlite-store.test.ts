import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteTaskStore } from '../../../../src/adapters/sqlite/sqlite-store.js';
import { describeTaskStoreContract, sampleTask } from '../../../support/store-contract.js';

describeTaskStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-store-'));
  const store = new SqliteTaskStore(join(dir, 'tasks.db'));
  return {
    store,
    async dispose() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SQLite files from earlier releases', () => {
  it('gain the image and cutout counts of the tasks they hold, so usage counts what they were charged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-store-'));
    const file = join(dir, 'tasks.db');
    try {
      // The table as releases before usage (#15) wrote it.
      const old = new Database(file);
      old.exec(`CREATE TABLE tasks (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, state TEXT NOT NULL,
        version INTEGER NOT NULL, created_at INTEGER NOT NULL, seq INTEGER NOT NULL, idempotency_key TEXT,
        doc TEXT NOT NULL)`);
      const image = { key: 'tasks/x/1.png', width: 8, height: 8, contentType: 'image/png', bytes: 9 };
      const tasks = [
        sampleTask({ state: 'SUCCEEDED', images: [image, image], prompt: 'nul \u0000 here' }),
        sampleTask({ state: 'FAILED' }),
        // A cutout charged before the generation failed; its NUL escape must not stop the count.
        sampleTask({
          state: 'FAILED',
          cutout: { status: 'stored', image },
          prompt: 'nul \u0000 and \\u0000',
        }),
      ];
      tasks.forEach((task, seq) => {
        old
          .prepare('INSERT INTO tasks VALUES (?, ?, ?, ?, ?, ?, NULL, ?)')
          .run(
            task.id,
            task.tenantId,
            task.state,
            task.version,
            task.createdAt,
            seq + 1,
            JSON.stringify(task),
          );
      });
      old.close();

      const store = new SqliteTaskStore(file);
      const first = tasks[0] as (typeof tasks)[number];
      expect(
        await store.usageForTenant(
          { tenantId: 'acme', subject: null },
          first.createdAt,
          Number.MAX_SAFE_INTEGER,
        ),
      ).toMatchObject({
        byState: { SUCCEEDED: 1, FAILED: 2 },
        imagesGenerated: 2,
        cutouts: 1,
      });
      expect(await store.get(first.id)).toEqual(first);
      await store.close();
      // Opening it again finds nothing left to do.
      const again = new SqliteTaskStore(file);
      expect(
        (await again.usageForTenant({ tenantId: 'acme', subject: null }, 0, Number.MAX_SAFE_INTEGER))
          .imagesGenerated,
      ).toBe(2);
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
