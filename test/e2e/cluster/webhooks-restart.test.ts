import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type LocalEngine, startLocalEngine } from '../../../src/local-engine/index.js';
import { type GatewayProcess, spawnGateway, stopGateway } from '../../support/cluster.js';
import { eventually } from '../../support/harness.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg-db.js';
import { startTestS3, type TestS3 } from '../../support/s3-server.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.js';
import { DELIVERIES, type DeliveryView, generateHooked } from '../../support/webhooks.js';

/**
 * Issue #15: webhook deliveries are rows in the store, so a gateway killed (SIGKILL) with
 * deliveries pending sends them after a restart, and with PostgreSQL another instance sends them
 * — each exactly once to a receiver that answered. Real gateway processes; the receiver is on
 * loopback (WEBHOOK_URL_ALLOW_PRIVATE=true opens only that for webhooks).
 */

const WEBHOOK_ENV = {
  WEBHOOK_URL_ALLOW_PRIVATE: 'true',
  WEBHOOK_RETRY_BASE_MS: '1000',
  WEBHOOK_TIMEOUT_MS: '2000',
};

let engine: LocalEngine;
const gateways: GatewayProcess[] = [];
let receiver: WebhookReceiver;

beforeAll(async () => {
  engine = await startLocalEngine({ durationMs: 300 });
});
afterAll(async () => {
  await engine?.close();
});
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gateway) => stopGateway(gateway)));
  await receiver?.close();
});

async function start(name: string, env: Record<string, string>): Promise<GatewayProcess> {
  const gateway = await spawnGateway(name, {
    ...env,
    ...WEBHOOK_ENV,
    PICWISH_API_KEY: engine.apiKey,
    PICWISH_BASE_URL: engine.url,
    PICWISH_QPS: '20',
  });
  gateways.push(gateway);
  return gateway;
}

async function deliveriesOn(gateway: GatewayProcess, id: string): Promise<DeliveryView[]> {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query: DELIVERIES, variables: { id } }),
  });
  const body = (await response.json()) as {
    data?: { backgroundTask: { webhookDeliveries: DeliveryView[] } };
  };
  return body.data?.backgroundTask.webhookDeliveries ?? [];
}

/**
 * Creates `count` hooked tasks on `gateway` while the receiver answers 500, waits until the gateway
 * recorded each delivery's failed try (so each is pending a retry), then kills it with SIGKILL.
 * Waiting on the receiver alone raced under load: killed between the receiver's 500 and the
 * gateway's record of it, a delivery showed only its later 200.
 */
async function pendingThenKilled(gateway: GatewayProcess, count: number): Promise<string[]> {
  receiver = await startWebhookReceiver(() => 500);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { id, errors } = await generateHooked(gateway.url, `${receiver.url}/hook`);
    expect(errors).toEqual([]);
    ids.push(id as string);
  }
  await eventually(async () => {
    const recorded = await Promise.all(ids.map((id) => deliveriesOn(gateway, id)));
    const failedOnce = recorded.every(
      (deliveries) => deliveries.length === 1 && deliveries[0]?.attempts[0]?.statusCode === 500,
    );
    return failedOnce ? true : undefined;
  }, 30_000);
  gateway.kill('SIGKILL');
  await gateway.exited;
  receiver.answerWith(() => 200);
  return ids;
}

/** The webhook-ids the receiver answered 200 to, with how often each got one. */
function deliveredCounts(since: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of receiver.received.slice(since)) {
    const id = String(request.headers['webhook-id']);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

describe('webhooks survive a killed gateway', () => {
  it('SQLite: a gateway killed with deliveries pending sends them after it restarts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gw-webhooks-restart-'));
    try {
      const first = await start('first', { DATA_DIR: dataDir });
      const tasks = await pendingThenKilled(first, 3);
      const failedTries = receiver.received.length;
      const second = await start('second', { DATA_DIR: dataDir });
      const deliveries = await eventually(async () => {
        const all = (await Promise.all(tasks.map((id) => deliveriesOn(second, id)))).flat();
        return all.length === 3 && all.every((d) => d.status === 'DELIVERED') ? all : undefined;
      }, 30_000);
      expect(new Set(deliveredCounts(failedTries).keys())).toEqual(new Set(deliveries.map((d) => d.id)));
      for (const delivery of deliveries) {
        expect(delivery.attempts[0]?.statusCode).toBe(500);
        expect(delivery.attempts.at(-1)?.statusCode).toBe(200);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 150_000);

  describe('PostgreSQL', () => {
    let database: TestDatabase;
    let s3: TestS3;
    let dataDir: string;
    beforeAll(async () => {
      database = await createTestDatabase();
      s3 = await startTestS3();
      dataDir = mkdtempSync(join(tmpdir(), 'gw-webhooks-pg-'));
    });
    afterAll(async () => {
      await s3?.stop();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('another instance sends what a killed one left pending, each delivery answered once', async () => {
      const env = {
        DATABASE_URL: database.url,
        ...s3.env('webhooks'),
        DATA_DIR: dataDir,
        FILES_SIGNING_SECRET: 'webhook-test-signing-secret-0123456789abcdef',
      };
      const [killed, survivor] = [await start('killed', env), await start('survivor', env)];
      const tasks = await pendingThenKilled(killed, 4);
      const failedTries = receiver.received.length;
      const deliveries = await eventually(async () => {
        const all = (await Promise.all(tasks.map((id) => deliveriesOn(survivor, id)))).flat();
        return all.length === 4 && all.every((d) => d.status === 'DELIVERED') ? all : undefined;
      }, 40_000);
      const counts = deliveredCounts(failedTries);
      expect(new Set(counts.keys())).toEqual(new Set(deliveries.map((d) => d.id)));
      expect([...counts.values()]).toEqual([1, 1, 1, 1]);
    }, 150_000);
  });
});
