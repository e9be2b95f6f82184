import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteTaskStore } from '../../../../src/adapters/sqlite/sqlite-store.js';
import { describeWebhookStoreContract } from '../../../support/webhook-store-contract.js';

describeWebhookStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-webhooks-'));
  const tasks = new SqliteTaskStore(join(dir, 'tasks.db'));
  return {
    tasks,
    webhooks: tasks.webhooks,
    async dispose() {
      await tasks.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
