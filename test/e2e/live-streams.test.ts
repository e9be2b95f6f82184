import { execFileSync } from 'node:child_process';
import { createClient } from 'graphql-sse';
import { describe, expect, it } from 'vitest';
import { TaskScheduler } from '../../src/scheduler/scheduler.js';
import { eachSseEvent, eventually, type TestStack } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import { bearer, mustGenerate, TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';

// Every subscription transport joins one stream hub (src/http/live/PROTOCOL.md): subscribers of
// one task and document share each execution, and what they receive is the same.

const FOLLOW =
  'subscription FollowShared($id: ID!) { backgroundTaskUpdated(id: $id) { id state queuePosition } }';
const CANCEL = 'mutation Cancel($id: ID!) { cancelBackgroundTask(id: $id) { id state } }';
const POSITION = 'query Position($id: ID!) { backgroundTask(id: $id) { queuePosition } }';

interface Collected {
  readonly transport: string;
  readonly payloads: unknown[];
  completed: boolean;
  headers?: Headers;
}

/** Yoga's SSE on /graphql, read with fetch until `event: complete`. */
function yogaSse(url: string, headers: Record<string, string>, variables: unknown, get = false): Collected {
  const collected: Collected = {
    transport: get ? 'yoga GET' : `yoga ${headers.origin ?? ''}`,
    payloads: [],
    completed: false,
  };
  const body = JSON.stringify({ query: FOLLOW, variables, operationName: 'FollowShared' });
  const target = get
    ? `${url}/graphql?${new URLSearchParams({ query: FOLLOW, variables: JSON.stringify(variables) })}`
    : `${url}/graphql`;
  void (async () => {
    const response = await fetch(target, {
      method: get ? 'GET' : 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...headers },
      body: get ? undefined : body,
    });
    collected.headers = response.headers;
    await eachSseEvent(response, (event, data) => {
      if (event === 'next' && data) collected.payloads.push(JSON.parse(data));
      if (event === 'complete') collected.completed = true;
    });
  })();
  return collected;
}

/** Apollo's multipart subscription on /graphql, read with fetch until the closing boundary. */
function multipart(url: string, headers: Record<string, string>, variables: unknown): Collected {
  const collected: Collected = { transport: 'apollo multipart', payloads: [], completed: false };
  void (async () => {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: {
        accept: 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/json;q=0.9',
        'content-type': 'application/json',
        ...headers,
      },
      body: JSON.stringify({ query: FOLLOW, variables, operationName: 'FollowShared' }),
    });
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let end = buffer.indexOf('\r\n--graphql'); end >= 0; end = buffer.indexOf('\r\n--graphql')) {
        const part = buffer.slice(0, end);
        buffer = buffer.slice(end + '\r\n--graphql'.length);
        const body = part.slice(part.indexOf('\r\n\r\n') + 4);
        const parsed = part.includes('\r\n\r\n') ? (JSON.parse(body) as { payload?: unknown }) : {};
        if (parsed.payload) collected.payloads.push(parsed.payload);
      }
    }
    collected.completed = buffer === '--\r\n';
  })();
  return collected;
}

/** The graphql-sse client in either mode on /graphql/stream. */
function graphqlSse(
  url: string,
  headers: Record<string, string>,
  variables: unknown,
  singleConnection: boolean,
) {
  const collected: Collected = {
    transport: singleConnection ? 'graphql-sse single' : 'graphql-sse distinct',
    payloads: [],
    completed: false,
  };
  const client = createClient({
    url: `${url}/graphql/stream`,
    singleConnection,
    headers,
    fetchFn: fetch,
    retryAttempts: 0,
  });
  client.subscribe(
    { query: FOLLOW, variables: variables as Record<string, unknown>, operationName: 'FollowShared' },
    {
      next: (payload) => void collected.payloads.push(payload),
      error: (error) => collected.payloads.push({ clientError: String(error) }),
      complete: () => {
        collected.completed = true;
        client.dispose();
      },
    },
  );
  return collected;
}

/** Keyed gateways serve /metrics to this token only. */
const METRICS_TOKEN = 'metrics-token-for-live-streams';

async function executions(stack: TestStack, outcome: 'ok' | 'error'): Promise<number> {
  const text = await (
    await fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
  ).text();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('graphql_operations_total{') &&
        l.includes('operation="FollowShared"') &&
        l.includes(`outcome="${outcome}"`),
    );
  return line ? Number(line.split(' ').at(-1)) : 0;
}

// GATEWAY_FAST_PATHS=off is the benchmark's baseline: each subscription then executes on its own,
// and every transport must still get the same.
describe.each([
  { fastPaths: 'on', shared: true },
  { fastPaths: 'off', shared: false },
])('live task streams on every transport (GATEWAY_FAST_PATHS=$fastPaths)', ({ fastPaths, shared }) => {
  // A budget this small keeps the later tasks waiting in the gateway's queue for the whole test.
  const itStreams = stackTest(
    {
      env: {
        GATEWAY_API_KEYS: TWO_TENANT_KEYS,
        METRICS_TOKEN,
        PICWISH_QPS: '0.02',
        NODE_ENV: 'production',
        GATEWAY_FAST_PATHS: fastPaths,
      },
    },
    'test',
  );
  const alpha = bearer(TENANTS.alpha);

  itStreams(
    'shares one execution per update among all transports, masks a failed one, and completes everyone',
    async ({ stack }) => {
      const ids: string[] = [];
      for (let i = 0; i < 4; i += 1) ids.push(await mustGenerate(stack, TENANTS.alpha));
      const followed = ids.at(-1) as string;
      const position = async (id: string) =>
        (
          (await stack.gql(POSITION, { id }, alpha)).body as {
            data: { backgroundTask: { queuePosition: number | null } };
          }
        ).data.backgroundTask.queuePosition;
      expect(await position(followed)).toBeGreaterThan(1);
      const variables = { id: followed };
      const subscribers = [
        yogaSse(stack.url, alpha, variables),
        yogaSse(stack.url, { ...alpha, origin: 'https://shop.example' }, variables),
        yogaSse(stack.url, alpha, variables, true),
        graphqlSse(stack.url, alpha, variables, false),
        graphqlSse(stack.url, alpha, variables, true),
        multipart(stack.url, alpha, variables),
      ];
      await eventually(async () => (subscribers.every((s) => s.payloads.length === 1) ? true : undefined));
      // Shared, the snapshots took one execution (a second if a queue move landed between joins);
      // unshared (GATEWAY_FAST_PATHS=off), every subscriber executed its own, and again per move.
      const snapshots = await executions(stack, 'ok');
      if (shared) expect(snapshots).toBeLessThan(subscribers.length);
      else expect(snapshots).toBeGreaterThanOrEqual(subscribers.length);
      expect(subscribers[1]?.headers?.get('access-control-allow-origin')).toBe('https://shop.example');

      // The next update fails in a resolver: every subscriber gets Yoga's masked error, nothing more.
      const scheduler = TaskScheduler.prototype;
      const real = scheduler.queuePosition;
      scheduler.queuePosition = async () => {
        throw new Error('secret internal detail');
      };
      for (const id of ids.slice(0, -1)) await stack.gql(CANCEL, { id }, alpha);
      await eventually(async () => (subscribers.every((s) => s.payloads.length >= 2) ? true : undefined));
      scheduler.queuePosition = real;

      await stack.gql(CANCEL, { id: followed }, alpha);
      await eventually(async () => (subscribers.every((s) => s.completed) ? true : undefined));

      const errorUpdates = await executions(stack, 'error');
      const okUpdates = await executions(stack, 'ok');
      const reference = subscribers[0]?.payloads ?? [];
      const failed = reference.filter((p) => (p as { errors?: unknown }).errors);
      if (shared) {
        // One execution per group and update, not per subscriber: every event came from one, and
        // five subscribers executing on their own would have made at least five per event. An
        // update that executes to the bytes already sent (the masked error again) is not re-sent,
        // so there may be more executions than events, never one per subscriber.
        expect(okUpdates + errorUpdates).toBeGreaterThanOrEqual(reference.length);
        expect(okUpdates + errorUpdates).toBeLessThan(subscribers.length * reference.length);
        expect(failed.length).toBeLessThanOrEqual(errorUpdates);
      }
      expect(reference[0]).toMatchObject({ data: { backgroundTaskUpdated: { state: 'QUEUED' } } });
      expect(reference.at(-1)).toMatchObject({ data: { backgroundTaskUpdated: { state: 'CANCELLED' } } });
      expect(failed.length).toBeGreaterThanOrEqual(1);
      expect(failed[0]).toMatchObject({
        errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
      });
      // No request caused the shared execution: the cancelling request's id is not handed out.
      if (shared) expect(JSON.stringify(failed)).toContain('"requestId":null');
      expect(JSON.stringify(reference)).not.toContain('secret');
      // Unshared, each subscriber executes on its own; errors name no request either way.
      const comparable = (payloads: unknown[]) =>
        shared
          ? payloads
          : JSON.parse(JSON.stringify(payloads).replace(/"requestId":"[^"]*"/g, '"requestId":"-"'));
      for (const subscriber of subscribers) {
        expect({ transport: subscriber.transport, payloads: comparable(subscriber.payloads) }).toEqual({
          transport: subscriber.transport,
          payloads: comparable(reference),
        });
        expect(subscriber.completed).toBe(true);
      }
    },
    60_000,
  );
});

it('writes to sockets through public response APIs only', () => {
  let found = '';
  try {
    found = execFileSync(
      'grep',
      ['-rn', '-e', '_httpMessage', '-e', 'outputData', '-e', 'chunkedEncoding', 'src'],
      {
        encoding: 'utf8',
      },
    );
  } catch (error) {
    // grep exits 1 when nothing matches.
    if ((error as { status?: number }).status !== 1) throw error;
  }
  expect(found).toBe('');
});
