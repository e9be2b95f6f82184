import { describe, expect } from 'vitest';
import { eachSseEvent, eventually, type TestStack } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import { bearer, mustGenerate, TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';

// graphql-sse's single-connection mode as the gateway serves it itself (src/http/live/
// graphql-sse.ts): graphql-sse 2.6's answers, with reservations and streams held by the
// gateway and task streams shared through the hub.

const FOLLOW = 'subscription Follow($id: ID!) { backgroundTaskUpdated(id: $id) { id state } }';
const CANCEL = 'mutation Cancel($id: ID!) { cancelBackgroundTask(id: $id) { id state } }';

/** An open stream, read as it arrives. */
interface OpenStream {
  readonly status: number;
  readonly events: { event: string; data: { id?: string; payload?: unknown } | null }[];
  readonly closed: Promise<void>;
  close(): void;
}

// A budget this small keeps tasks queued (never finished) for the whole test.
const it = stackTest({ env: { GATEWAY_API_KEYS: TWO_TENANT_KEYS, PICWISH_QPS: '0.02' } });

const alpha = bearer(TENANTS.alpha);
const beta = bearer(TENANTS.beta);

/** The requests of graphql-sse's single-connection mode, on `stack`'s /graphql/stream. */
function singleConnection(stack: TestStack) {
  const url = `${stack.url}/graphql/stream`;

  const reserve = async (headers = alpha) => {
    const response = await fetch(url, { method: 'PUT', headers });
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    return response.text();
  };

  const open = async (token: string, headers = alpha): Promise<OpenStream> => {
    const controller = new AbortController();
    const response = await fetch(url, {
      headers: { accept: 'text/event-stream', 'x-graphql-event-stream-token': token, ...headers },
      signal: controller.signal,
    });
    const events: OpenStream['events'] = [];
    const closed = (async () => {
      if (!response.body) return;
      try {
        await eachSseEvent(response, (event, data) => {
          events.push({ event, data: data ? JSON.parse(data) : null });
        });
      } catch {
        // Aborted by close().
      }
    })();
    return { status: response.status, events, closed, close: () => controller.abort() };
  };

  const operate = (token: string, body: unknown, headers = alpha) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-graphql-event-stream-token': token, ...headers },
      body: JSON.stringify(body),
    });

  return { url, reserve, open, operate };
}

describe('single-connection graphql-sse streams (gateway-owned)', () => {
  it('streams a task to an operation, stops it on DELETE with complete, and forgets the token once the stream closes', async ({
    stack,
  }) => {
    const { url, reserve, open, operate } = singleConnection(stack);
    const id = await mustGenerate(stack, TENANTS.alpha);
    const token = await reserve();
    const stream = await open(token);
    expect(stream.status).toBe(200);
    // A token admits one stream (STREAM_RESERVATION_EXPIRED).
    expect((await open(token)).status).toBe(410);
    const added = await operate(token, {
      query: FOLLOW,
      variables: { id },
      extensions: { operationId: 'a' },
    });
    expect(added.status).toBe(202);
    await eventually(async () => (stream.events.length >= 1 ? true : undefined));
    expect(stream.events[0]).toEqual({
      event: 'next',
      data: { id: 'a', payload: { data: { backgroundTaskUpdated: { id, state: 'QUEUED' } } } },
    });
    const again = await operate(token, {
      query: FOLLOW,
      variables: { id },
      extensions: { operationId: 'a' },
    });
    expect(again.status).toBe(409);
    expect(await again.json()).toEqual({ errors: [{ message: 'Operation with ID already exists' }] });
    const stopped = await fetch(`${url}?operationId=a`, {
      method: 'DELETE',
      headers: { 'x-graphql-event-stream-token': token, ...alpha },
    });
    expect(stopped.status).toBe(200);
    await eventually(async () => (stream.events.at(-1)?.event === 'complete' ? true : undefined));
    expect(stream.events.at(-1)).toEqual({ event: 'complete', data: { id: 'a' } });
    // A stopped operation gets nothing more.
    await stack.gql(CANCEL, { id }, alpha);
    const count = stream.events.length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(stream.events.length).toBe(count);

    stream.close();
    await stream.closed;
    await eventually(async () => {
      const late = await operate(token, {
        query: FOLLOW,
        variables: { id },
        extensions: { operationId: 'b' },
      });
      return late.status === 404 ? true : undefined;
    });
  });

  it('runs other operations through Yoga: a query is one next and complete, an invalid one a 400', async ({
    stack,
  }) => {
    const { reserve, open, operate } = singleConnection(stack);
    const token = await reserve();
    const stream = await open(token);
    const query = await operate(token, { query: '{ __typename }', extensions: { operationId: 'q' } });
    expect(query.status).toBe(202);
    await eventually(async () => (stream.events.length >= 2 ? true : undefined));
    expect(stream.events).toEqual([
      { event: 'next', data: { id: 'q', payload: { data: { __typename: 'Query' } } } },
      { event: 'complete', data: { id: 'q' } },
    ]);
    const invalid = await operate(token, { query: '{ noSuchField }', extensions: { operationId: 'v' } });
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(await invalid.json())).toContain('noSuchField');
    const unparsable = await operate(token, { query: '{', extensions: { operationId: 'p' } });
    expect(unparsable.status).toBe(400);
    expect(JSON.stringify(await unparsable.json())).toContain('GRAPHQL_PARSE_FAILED');
    const noId = await operate(token, { query: '{ __typename }' });
    expect(noId.status).toBe(400);
    expect(await noId.json()).toEqual({ errors: [{ message: 'Operation ID is missing' }] });
    stream.close();
  });

  it("answers another tenant's token as an unknown stream, for reading and for pushing", async ({
    stack,
  }) => {
    const { reserve, open, operate } = singleConnection(stack);
    const token = await reserve(alpha);
    const read = await open(token, beta);
    expect(read.status).toBe(404);
    const pushed = await operate(token, { query: '{ __typename }', extensions: { operationId: 'x' } }, beta);
    expect(pushed.status).toBe(404);
    expect(await pushed.json()).toEqual({ errors: [{ message: 'Stream not found' }] });
    const mine = await open(token, alpha);
    expect(mine.status).toBe(200);
    mine.close();
  });

  it('flushes what an operation sent before the stream connected', async ({ stack }) => {
    const { reserve, open, operate } = singleConnection(stack);
    const id = await mustGenerate(stack, TENANTS.alpha);
    const token = await reserve();
    const added = await operate(token, {
      query: FOLLOW,
      variables: { id },
      extensions: { operationId: 'early' },
    });
    expect(added.status).toBe(202);
    const stream = await open(token);
    await eventually(async () => (stream.events.length >= 1 ? true : undefined));
    expect(stream.events[0]).toMatchObject({ event: 'next', data: { id: 'early' } });
    stream.close();
  });

  it('drops a reservation whose operations pile up more than the slow-reader bound before its stream connects', async ({
    stack,
  }) => {
    const { reserve, open, operate } = singleConnection(stack);
    const token = await reserve();
    // Introspection answers are tens of KiB each: a few of them pass the 256 KiB bound.
    const big =
      '{ __schema { types { name description fields { name description args { name description } } } } }';
    let status = 202;
    for (let i = 0; i < 100 && status === 202; i += 1)
      status = (await operate(token, { query: big, extensions: { operationId: `big-${i}` } })).status;
    // 204 for the operation that overflowed it (stopped with its reservation), 404 after.
    expect([204, 404]).toContain(status);
    // The token admits no stream any more: its reservation is gone.
    expect((await open(token)).status).toBe(410);
  });
});
