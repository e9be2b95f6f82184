import { print } from 'graphql';
import { createClient } from 'graphql-sse';
import { describe, expect } from 'vitest';
import { GenerateFromFileDocument, type GenerateFromFileMutation } from '../generated/graphql.js';
import { transparentPng } from '../support/fixtures.js';
import { eventually, uploadOperation } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';

/**
 * What operators and browsers get besides GraphQL: probes, metrics, and what the demo page is told
 * (the page itself: test/e2e/built-gateway-serves-its-pages.test.ts).
 */

async function gauge(url: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

// Slow enough that a task stays unfinished while the subscription is counted.
const it = stackTest({ engine: { durationMs: 20_000 } });
const itLocal = stackTest({
  env: { PICWISH_API_KEY: '', GATEWAY_API_KEYS: 'acme:0123456789abcdef0123456789' },
});

describe('operations endpoints', () => {
  it('/healthz and /readyz answer ready', async ({ stack }) => {
    const health = await fetch(`${stack.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${stack.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });
  });

  it('/metrics counts created tasks, and a live subscription while it is open but not after it ends', async ({
    stack,
  }) => {
    expect(await gauge(stack.url, 'gateway_active_subscriptions')).toBe(0);
    const created = await uploadOperation(
      stack.url,
      print(GenerateFromFileDocument),
      { file: null, prompt: 'a quiet library' },
      { variablePath: 'variables.file', bytes: await transparentPng() },
    );
    const { id } = (created.body.data as GenerateFromFileMutation).generateBackground;
    expect(await gauge(stack.url, 'gateway_tasks_created_total')).toBe(1);
    const client = createClient({ url: `${stack.url}/graphql/stream`, fetchFn: fetch, retryAttempts: 0 });
    const first = new Promise<void>((resolve, reject) => {
      client.subscribe(
        { query: 'subscription($id: ID!) { backgroundTaskUpdated(id: $id) { state } }', variables: { id } },
        { next: () => resolve(), error: reject, complete: () => {} },
      );
    });
    try {
      await first;
      await eventually(async () =>
        (await gauge(stack.url, 'gateway_active_subscriptions')) === 1 ? true : undefined,
      );
    } finally {
      client.dispose();
    }
    await eventually(async () =>
      (await gauge(stack.url, 'gateway_active_subscriptions')) === 0 ? true : undefined,
    );
    const text = await (await fetch(`${stack.url}/metrics`)).text();
    for (const name of ['gateway_queue_length', 'gateway_running_tasks', 'graphql_operations_total']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it('/about.json says the gateway talks to PicWish when it has a PicWish key, and that no key is needed', async ({
    stack,
  }) => {
    const about = await fetch(`${stack.url}/about.json`);
    expect(about.status).toBe(200);
    expect(await about.json()).toEqual({ engine: 'picwish', apiKeyRequired: false });
  });
});

describe('/about.json on other configurations', () => {
  itLocal(
    'says "local" without a PicWish key, and that a gateway key is required when keys are configured',
    async ({ stack }) => {
      expect(await (await fetch(`${stack.url}/about.json`)).json()).toEqual({
        engine: 'local',
        apiKeyRequired: true,
      });
      // The page itself loads without a key; its GraphQL calls are what need one.
      expect((await fetch(`${stack.url}/`)).status).toBe(200);
    },
  );
});
