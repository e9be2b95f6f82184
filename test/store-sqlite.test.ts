import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteTaskStore } from '../src/adapters/sqlite/sqlite-store.js';
import { describeTaskStoreContract } from './store-contract.js';

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
