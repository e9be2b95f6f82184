import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { request } from 'undici';
import { describe, expect } from 'vitest';
import { eventually, type TestStack } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import { bearer, TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';

/**
 * graphql-sse's single-connection reservations (`PUT /graphql/stream`): each waits at most
 * SSE_RESERVATION_TTL_MS for its stream and is then freed, a tenant holds at most
 * SSE_RESERVATIONS_PER_TENANT unconnected ones, and a token admits one stream connection.
 */

const TOKEN_HEADER = 'x-graphql-event-stream-token';
const alpha = bearer(TENANTS.alpha);

/** Reserves a stream; the answer's status, and the token or the error code. */
async function reserve(
  stack: TestStack,
  headers = alpha,
): Promise<{ status: number; text: string; code?: string }> {
  const response = await request(`${stack.url}/graphql/stream`, { method: 'PUT', headers });
  const text = await response.body.text();
  if (response.statusCode === 201) return { status: 201, text };
  const code = (JSON.parse(text) as { errors: { extensions?: { code?: string } }[] }).errors[0]?.extensions
    ?.code;
  return { status: response.statusCode, text, code };
}

/** Connects the stream of `token`; an open stream is left open until `close` is called. */
async function connect(
  stack: TestStack,
  token: string,
): Promise<{ status: number; code?: string; retryAfter: string | null; close: () => void }> {
  const controller = new AbortController();
  const response = await fetch(`${stack.url}/graphql/stream`, {
    headers: { ...alpha, accept: 'text/event-stream', [TOKEN_HEADER]: token },
    signal: controller.signal,
  });
  const close = () => controller.abort();
  if (response.status === 200) return { status: 200, retryAfter: null, close };
  const body = (await response.json()) as { errors: { extensions?: { code?: string } }[] };
  return {
    status: response.status,
    code: body.errors[0]?.extensions?.code,
    retryAfter: response.headers.get('retry-after'),
    close,
  };
}

// The stream layer holds reservations with or without its fast paths (they only switch sharing off).
// Each test has a gateway of its own (scope 'test'): a file-scoped fixture cannot be declared in a
// describe, and a test here leaves its gateway's reservations used up or flooded.
describe.each([
  ['with sharing', 'on'],
  ['without sharing', 'off'],
])('%s (GATEWAY_FAST_PATHS=%s)', (_holder, fastPaths) => {
  describe('stream reservations are capped per tenant', () => {
    const capped = stackTest(
      {
        env: {
          GATEWAY_FAST_PATHS: fastPaths,
          GATEWAY_API_KEYS: TWO_TENANT_KEYS,
          SSE_RESERVATIONS_PER_TENANT: '3',
          SSE_RESERVATION_TTL_MS: '60000',
        },
      },
      'test',
    );
    // With the default cap and time to live: the test reserves once and connects twice.
    const uncapped = stackTest(
      { env: { GATEWAY_FAST_PATHS: fastPaths, GATEWAY_API_KEYS: TWO_TENANT_KEYS } },
      'test',
    );

    capped(
      'refuses a reservation beyond the cap with 429 STREAM_RESERVATIONS_EXHAUSTED, for that tenant only',
      async ({ stack }) => {
        const tokens = [];
        for (let i = 0; i < 3; i++) tokens.push(await reserve(stack));
        expect(tokens.map((t) => t.status)).toEqual([201, 201, 201]);
        const refused = await fetch(`${stack.url}/graphql/stream`, { method: 'PUT', headers: alpha });
        expect(refused.status).toBe(429);
        expect(refused.headers.get('retry-after')).toBe('60');
        const body = (await refused.json()) as {
          errors: { message: string; extensions: { code: string } }[];
        };
        expect(body.errors[0]?.extensions.code).toBe('STREAM_RESERVATIONS_EXHAUSTED');
        expect(body.errors[0]?.message).toContain('(3)');
        // Another tenant has places of its own.
        expect((await reserve(stack, bearer(TENANTS.beta))).status).toBe(201);

        // A connected stream no longer counts against the cap.
        const stream = await connect(stack, tokens[0]?.text as string);
        expect(stream.status).toBe(200);
        expect((await reserve(stack)).status).toBe(201);
        expect((await reserve(stack)).code).toBe('STREAM_RESERVATIONS_EXHAUSTED');
        stream.close();
      },
    );

    uncapped(
      'admits one stream per token: a second connection answers 410 STREAM_RESERVATION_EXPIRED',
      async ({ stack }) => {
        const { text: token } = await reserve(stack);
        const first = await connect(stack, token);
        expect(first.status).toBe(200);
        const second = await connect(stack, token);
        expect(second).toMatchObject({ status: 410, code: 'STREAM_RESERVATION_EXPIRED' });
        first.close();
      },
    );
  });

  describe('unconnected stream reservations expire', () => {
    const TTL_MS = 1_000;
    const COUNT = 20_000;
    const PER_RESERVATION_BYTES = 400;
    const it = stackTest(
      {
        env: {
          GATEWAY_FAST_PATHS: fastPaths,
          GATEWAY_API_KEYS: TWO_TENANT_KEYS,
          SSE_RESERVATIONS_PER_TENANT: String(COUNT),
          SSE_RESERVATION_TTL_MS: String(TTL_MS),
        },
      },
      'test',
    );

    it("answers an expired reservation's stream with 410 STREAM_RESERVATION_EXPIRED", async ({ stack }) => {
      const { status, text: token } = await reserve(stack);
      expect(status).toBe(201);
      await new Promise((resolve) => setTimeout(resolve, 3 * TTL_MS));
      const late = await connect(stack, token);
      expect(late).toMatchObject({ status: 410, code: 'STREAM_RESERVATION_EXPIRED' });
      // Operations sent onto it find no stream either: graphql-sse has let it go.
      const post = await fetch(`${stack.url}/graphql/stream`, {
        method: 'POST',
        headers: { ...alpha, 'content-type': 'application/json', [TOKEN_HEADER]: token },
        body: JSON.stringify({ query: '{ sceneTypes { id } }', extensions: { operationId: '1' } }),
      });
      expect(post.status).toBe(404);
    });

    /**
     * Measured in this process: the gateway runs here (the `stack` fixture), and `gc` comes from V8's
     * --expose-gc flag set at run time. The figure is heapUsed + external after two full
     * collections, which is what reservations retain (RSS is not: the allocator keeps freed pages,
     * and the test's own client shares the process). Two bounds, both must hold: the issue's 10 %
     * of idle, and 400 bytes per reservation, because the idle heap (80-130 MiB, the whole test
     * process) makes 10 % a loose bound for the lighter holder. Measured on the 2-core machine:
     * with expiry the heap settles about 3 MiB above idle whichever the holder (JIT code and
     * caches, up to 4.4 MiB seen; 7.6 MiB is allowed); with expiry switched off, 20 000 reservations keep ~10.5 MiB
     * in the gateway's own streams (~550 bytes each) and ~41 MiB in graphql-sse (~2 KB each).
     * The check repeats (30 s at most) because releases trail their expiry timers, and GC is
     * forced each time, so a loaded machine only makes it slower.
     */
    it('gives the memory of 20 000 unconnected reservations back: within 10 % of idle', async ({ stack }) => {
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as () => void;
      const retained = () => {
        gc();
        gc();
        const usage = process.memoryUsage();
        return usage.heapUsed + usage.external;
      };
      const flood = async (count: number) => {
        let next = 0;
        const worker = async () => {
          while (next < count) {
            next += 1;
            const answer = await reserve(stack);
            if (answer.status !== 201)
              throw new Error(`reservation refused: ${answer.status} ${answer.text}`);
          }
        };
        await Promise.all(Array.from({ length: 16 }, worker));
      };
      // Warm-up: the code paths and the client's connections exist before the idle figure is taken.
      await flood(1_000);
      await new Promise((resolve) => setTimeout(resolve, 3 * TTL_MS));
      const idle = retained();

      await flood(COUNT);
      const peak = retained();
      const within = (bytes: number) => bytes <= idle * 1.1 && bytes - idle <= COUNT * PER_RESERVATION_BYTES;
      const settled = await eventually(
        async () => {
          const now = retained();
          return within(now) ? now : undefined;
        },
        30_000,
        500,
      ).catch(() => retained());
      const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;
      console.info(
        `stream reservations: idle ${mib(idle)}, right after ${COUNT} ${mib(peak)}, settled ${mib(settled)}`,
      );
      expect(settled).toBeLessThanOrEqual(idle * 1.1);
      expect(settled - idle).toBeLessThanOrEqual(COUNT * PER_RESERVATION_BYTES);
    }, 180_000);
  });
});
