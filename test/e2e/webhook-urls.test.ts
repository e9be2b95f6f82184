import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { TestStack } from '../support/harness.js';
import { stubResolver } from '../support/loopback-transport.js';
import { stackTest } from '../support/stack-test.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';
import { generateHooked, settledDelivery } from '../support/webhooks.js';

/**
 * Where webhooks may go: URLs in refused ranges are refused at create with nothing spent, a
 * tenant's default URL stands in for a task that names none, and what the private switches open.
 * Names resolve from a table and sockets open to loopback only (test/support/loopback-transport.ts).
 */

const internal = {
  'hooks.corp.example': ['10.1.2.3'],
  'router.example': ['192.168.1.1'],
  'cgnat.example': ['100.64.0.7'],
  'ula.example': ['fd12::1'],
  'linklocal.example': ['169.254.10.10'],
  'metadata.example': ['169.254.169.254'],
  'mixed.example': ['93.184.216.34', '10.0.0.1'],
};
const itDefaults = stackTest({ engine: { durationMs: 300 }, resolve: stubResolver(internal) });

async function expectRefused(stack: TestStack, url: string): Promise<void> {
  const { id, errors } = await generateHooked(stack.url, url);
  expect(id, url).toBeNull();
  expect(errors[0]?.extensions, url).toMatchObject({
    code: 'BAD_USER_INPUT',
    reason: 'URL_NOT_ALLOWED',
    field: 'input.webhookUrl',
  });
}

describe('webhook URLs in refused ranges are refused at create, with nothing spent', () => {
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
  });

  itDefaults('refuses every spelling of loopback under the default settings', async ({ stack }) => {
    const port = receiver.port;
    for (const host of [
      '127.0.0.1',
      '[::1]',
      '0x7f000001',
      '2130706433',
      '[::ffff:127.0.0.1]',
      'localhost',
    ]) {
      await expectRefused(stack, `http://${host}:${port}/hook`);
    }
    expect(receiver.received).toHaveLength(0);
    const tasks = await stack.gql<{
      backgroundTasks: { edges: unknown[] };
      viewer: { limits: { remainingThisMinute: number } };
    }>(
      'query { backgroundTasks(first: 10) { edges { cursor } } viewer { limits { remainingThisMinute perMinute } } }',
    );
    expect(tasks.body.data?.backgroundTasks.edges).toEqual([]);
    expect(tasks.body.data?.viewer.limits).toEqual({ remainingThisMinute: 60, perMinute: 60 });
  });

  itDefaults(
    'refuses names resolving to private, CGNAT, unique-local, link-local and metadata addresses',
    async ({ stack }) => {
      for (const host of Object.keys(internal)) await expectRefused(stack, `https://${host}/hook`);
      await expectRefused(stack, 'http://169.254.169.254/latest/meta-data/');
      expect(receiver.received).toHaveLength(0);
    },
  );
});

describe('a tenant default webhook URL (TENANT_WEBHOOK_URLS)', () => {
  // The default names the fallback receiver, whose port is known once it listens. The gateway is
  // the test's own ('test') and closes at its end, before the receivers.
  let fallback: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let explicit: Awaited<ReturnType<typeof startWebhookReceiver>>;
  const itWithDefault = stackTest(
    () => ({
      engine: { durationMs: 300 },
      env: { WEBHOOK_URL_ALLOW_PRIVATE: 'true', TENANT_WEBHOOK_URLS: `local=${fallback.url}/default` },
    }),
    'test',
  );
  beforeAll(async () => {
    fallback = await startWebhookReceiver();
    explicit = await startWebhookReceiver();
  });
  afterAll(async () => {
    await fallback?.close();
    await explicit?.close();
  });

  itWithDefault(
    'announces tasks that name no webhookUrl to the default, and an explicit one overrides it',
    async ({ stack }) => {
      const plain = await generateHooked(stack.url, null);
      const own = await generateHooked(stack.url, `${explicit.url}/own`);
      expect((await settledDelivery(stack, plain.id as string)).url).toBe(`${fallback.url}/default`);
      expect((await settledDelivery(stack, own.id as string)).url).toBe(`${explicit.url}/own`);
      expect(fallback.received.map((r) => JSON.parse(r.body).data.id)).toEqual([plain.id]);
      expect(explicit.received.map((r) => JSON.parse(r.body).data.id)).toEqual([own.id]);
    },
  );
});

const itPrivateWebhooks = stackTest(
  {
    engine: { durationMs: 300 },
    env: { WEBHOOK_URL_ALLOW_PRIVATE: 'true' },
    resolve: stubResolver({ 'nas.example': ['192.168.1.20'], 'metadata.example': ['169.254.169.254'] }),
  },
  'test',
);
const itPrivateImages = stackTest(
  { engine: { durationMs: 300 }, env: { IMAGE_URL_ALLOW_PRIVATE: 'true' } },
  'test',
);

describe('what the private switches open', () => {
  itPrivateWebhooks(
    'WEBHOOK_URL_ALLOW_PRIVATE opens private ranges to webhooks, never link-local or metadata',
    async ({ stack }) => {
      expect((await generateHooked(stack.url, 'http://nas.example/hook')).errors).toEqual([]);
      for (const url of ['http://metadata.example/', 'http://169.254.169.254/', 'http://169.254.10.10/']) {
        expect((await generateHooked(stack.url, url)).errors[0]?.extensions?.reason, url).toBe(
          'URL_NOT_ALLOWED',
        );
      }
      // Image URLs stay closed: the switch is for webhooks alone.
      const image = await stack.gql(
        'mutation { generateBackground(input: { image: { url: "http://nas.example/p.png" }, background: { prompt: "x" } }) { id } }',
      );
      expect(image.body.errors?.[0]?.extensions?.reason).toBe('URL_NOT_ALLOWED');
    },
  );

  itPrivateImages('IMAGE_URL_ALLOW_PRIVATE opens webhooks to loopback as well', async ({ stack }) => {
    const receiver = await startWebhookReceiver();
    try {
      const { id, errors } = await generateHooked(stack.url, `${receiver.url}/local`);
      expect(errors).toEqual([]);
      expect((await settledDelivery(stack, id as string)).status).toBe('DELIVERED');
    } finally {
      await receiver.close();
    }
  });
});
