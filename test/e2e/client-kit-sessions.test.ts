import { beforeAll, describe, expect } from 'vitest';
import { createGatewayClient, GatewayError } from '../../client/index.js';
import { createSessionToken } from '../../client/server.js';
import { SessionTokens } from '../../src/auth/session-tokens.js';
import { pngFile } from '../support/client-kit.js';
import { transparentPng } from '../support/fixtures.js';
import { stackTest } from '../support/stack-test.js';
import { TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';

/**
 * The kit's token renewal against the gateway's real refusals (#23): a token that expired before
 * the request (an upload, a stream's start) is renewed once through the page's token function (here
 * `createSessionToken` from `client/server`), and TOKEN_INVALID is final. A stream reconnecting
 * after expiry and per-user minting: sessions-client-kit.test.ts.
 */

const SESSION_SECRET = 'kit-session-secret-0123456789abcdefghij';
const PROMPT = 'white marble counter, soft daylight';

const it = stackTest({
  engine: { durationMs: 800 },
  env: { GATEWAY_API_KEYS: TWO_TENANT_KEYS, SESSION_TOKEN_SECRET: SESSION_SECRET },
});

let png: Buffer;
/** A token the gateway itself signed, whose time ran out ten minutes ago. */
let expired: string;

beforeAll(async () => {
  png = await transparentPng(512, 384);
  expired = (
    await new SessionTokens(SESSION_SECRET).mint(
      { tenantId: 'alpha', subject: 'ann' },
      60,
      Date.now() - 600_000,
    )
  ).token;
}, 60_000);

/** What a page's token function does: ask "its backend", here createSessionToken with the server key. */
function backendTokens(url: string, first?: string): { source: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    source: async () => {
      calls += 1;
      if (calls === 1 && first) return first;
      return (await createSessionToken({ url, serverKey: TENANTS.alpha, subject: 'ann', ttlSeconds: 120 }))
        .token;
    },
    calls: () => calls,
  };
}

describe('client kit sessions against the gateway', () => {
  it('an expired token is renewed once and the generation goes through, live stream included', async ({
    stack,
  }) => {
    const url = `${stack.url}/graphql`;
    const tokens = backendTokens(url, expired);
    const client = createGatewayClient({ url, token: tokens.source });
    const states: string[] = [];
    const task = await client.generate(
      { image: pngFile(png), background: { prompt: PROMPT }, batchSize: 1 },
      { onUpdate: (update) => states.push(update.state) },
    );
    expect(task.state).toBe('SUCCEEDED');
    expect(states.at(-1)).toBe('SUCCEEDED');
    expect(tokens.calls()).toBe(2);
    client.dispose();
  });

  it('a live stream opened with an expired token renews it and follows the task to its end', async ({
    stack,
  }) => {
    const url = `${stack.url}/graphql`;
    // Create a task and stop following it at once (the task goes on), keeping its id.
    const owner = createGatewayClient({ url, token: backendTokens(url).source });
    const stop = new AbortController();
    const created: { id?: string } = {};
    await owner
      .generate(
        { image: pngFile(png), background: { prompt: PROMPT }, batchSize: 1 },
        {
          signal: stop.signal,
          onUpdate: (update) => {
            created.id ??= update.id;
            stop.abort();
          },
        },
      )
      .catch(() => null);
    owner.dispose();
    const id = created.id;
    if (!id) throw new Error('the task was not created');

    const tokens = backendTokens(url, expired);
    const follower = createGatewayClient({ url, token: tokens.source });
    const updates: string[] = [];
    const task = await follower.follow(id, {
      onUpdate: (update) => updates.push(update.state),
    });
    expect(task.state).toBe('SUCCEEDED');
    expect(updates.length).toBeGreaterThan(0);
    expect(tokens.calls()).toBe(2);
    follower.dispose();
  });

  it('a forged token is refused as TOKEN_INVALID without asking for another', async ({ stack }) => {
    let calls = 0;
    const client = createGatewayClient({
      url: `${stack.url}/graphql`,
      token: async () => {
        calls += 1;
        return `${expired.slice(0, -4)}AAAA`;
      },
    });
    const refusal = await client.sceneTypes().catch((reason: unknown) => reason);
    expect(refusal).toBeInstanceOf(GatewayError);
    expect(refusal).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_INVALID', status: 401 });
    expect(calls).toBe(1);
    client.dispose();
  });
});
