import { describe, expect } from 'vitest';
import { eventually, type TestStack } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import { bearer, mustGenerate, TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';

/**
 * Issue #27 item 6: one tenant may hold at most SSE_STREAMS_PER_TENANT open event streams on an
 * instance (2 here); one more is answered 429 STREAM_LIMIT_EXCEEDED at once, the other tenant is
 * not affected, and a closed stream frees its place.
 */
const it = stackTest({
  // Tasks run for a minute, so their streams stay open for the whole test.
  engine: { durationMs: 60_000 },
  env: { GATEWAY_API_KEYS: TWO_TENANT_KEYS, SSE_STREAMS_PER_TENANT: '2' },
});

const WATCH = 'subscription($id: ID!) { backgroundTaskUpdated(id: $id) { id state } }';

/** Opens a stream and resolves once its answer's head arrived; `close` hangs up. */
async function open(stack: TestStack, key: string, id: string) {
  const controller = new AbortController();
  const response = await fetch(`${stack.url}/graphql`, {
    method: 'POST',
    signal: controller.signal,
    headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...bearer(key) },
    body: JSON.stringify({ query: WATCH, variables: { id } }),
  });
  return {
    response,
    close: () => {
      controller.abort();
      response.body?.cancel().catch(() => undefined);
    },
  };
}

describe('event streams per tenant', () => {
  it('refuses a tenant’s stream over the cap with 429, keeps the other tenant’s, and frees the place on close', async ({
    stack,
  }) => {
    const alphaTask = await mustGenerate(stack, TENANTS.alpha);
    const betaTask = await mustGenerate(stack, TENANTS.beta);
    const first = await open(stack, TENANTS.alpha, alphaTask);
    const second = await open(stack, TENANTS.alpha, alphaTask);
    expect([first.response.status, second.response.status]).toEqual([200, 200]);

    const third = await open(stack, TENANTS.alpha, alphaTask);
    expect(third.response.status).toBe(429);
    expect(third.response.headers.get('retry-after')).toBe('5');
    const refusal = (await third.response.json()) as {
      errors: { message: string; extensions: { code: string } }[];
    };
    expect(refusal.errors[0]?.extensions.code).toBe('STREAM_LIMIT_EXCEEDED');
    expect(refusal.errors[0]?.message).toContain('SSE_STREAMS_PER_TENANT');

    const other = await open(stack, TENANTS.beta, betaTask);
    expect(other.response.status).toBe(200);
    other.close();

    first.close();
    const again = await eventually(async () => {
      const attempt = await open(stack, TENANTS.alpha, alphaTask);
      if (attempt.response.status === 200) return attempt;
      await attempt.response.arrayBuffer();
      return undefined;
    }, 10_000);
    again.close();
    second.close();
  });
});
