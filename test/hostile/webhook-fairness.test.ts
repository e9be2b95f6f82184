import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { eventually } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import { bearer, TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { generateHooked } from '../support/webhooks.js';

/**
 * #27 item 5: a tenant whose webhook receiver never answers costs itself, not the others. Alpha
 * makes 24 tasks whose deliveries go to a receiver that takes every request and answers none
 * (each try holds its slot for all of WEBHOOK_TIMEOUT_MS); beta's one delivery must still arrive
 * at once, not after alpha's tries time out. Before the fix, alpha's rows took all 16 send slots
 * (oldest due first) and beta's delivery waited a whole timeout round.
 */

const it = stackTest({
  env: {
    GATEWAY_API_KEYS: TWO_TENANT_KEYS,
    WEBHOOK_URL_ALLOW_PRIVATE: 'true',
    // Longer than the test waits for beta: a slot alpha holds stays held throughout.
    WEBHOOK_TIMEOUT_MS: '60000',
    WEBHOOK_IN_FLIGHT_PER_TENANT: '4',
    TENANT_MAX_ACTIVE_TASKS: '100',
    TENANT_RATE_LIMIT_PER_MINUTE: '100',
  },
});

/** Alpha's receiver: takes every request and answers none. Beta's (`good`) answers at once. */
let hanging: Server;
let hangingUrl: string;
const held: IncomingMessage[] = [];
let good: WebhookReceiver;

beforeAll(async () => {
  hanging = createServer((req) => {
    held.push(req);
  });
  await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
  hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/hook`;
  good = await startWebhookReceiver();
});

afterAll(async () => {
  hanging?.closeAllConnections();
  await new Promise((resolve) => hanging?.close(resolve));
  await good?.close();
});

describe('webhook delivery under a receiver that never answers', () => {
  it("holds at most WEBHOOK_IN_FLIGHT_PER_TENANT of alpha's tries, and beta's delivery arrives at once", async ({
    stack,
  }) => {
    for (let i = 0; i < 24; i += 1) {
      const made = await generateHooked(stack.url, hangingUrl, ['QUEUED'], bearer(TENANTS.alpha));
      expect(made.errors).toEqual([]);
    }
    // Alpha's tries are under way and hanging: exactly its cap of them.
    await eventually(async () => (held.length >= 4 ? true : undefined), 20_000);

    const started = Date.now();
    const beta = await generateHooked(stack.url, good.url, ['QUEUED'], bearer(TENANTS.beta));
    expect(beta.errors).toEqual([]);
    await eventually(async () => (good.received.length === 1 ? true : undefined), 20_000);
    const waited = Date.now() - started;
    console.log(
      `webhook fairness: beta delivered ${waited} ms after its task, alpha holding ${held.length} tries`,
    );
    // Bounded by the event-driven wait above, not by a timer: alpha never got a fifth slot.
    expect(held.length).toBe(4);
    expect(waited).toBeLessThan(20_000);
  }, 60_000);
});
