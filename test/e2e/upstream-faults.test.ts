import { spawn, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { GENERATE_INPUT, transparentPng } from '../support/fixtures.js';
import { eventually, readSse, type TestStack, uploadOperation } from '../support/harness.js';
import { type StackOptions, stackTest } from '../support/stack-test.js';
import { ifFinal } from '../support/task-ops.js';

/**
 * PicWish misbehaving, acted out by the local engine's fault switches over real HTTP: blips are
 * ridden out to SUCCEEDED, refusals end in a precise TaskError, and a create that may have
 * reached PicWish is never sent twice. Every scenario has its own engine and gateway, so they run
 * concurrently without sharing fault queues.
 */

const WRONG_KEY = 'wrong-key-0123456789abcdef';
const TASK =
  'query Task($id: ID!) { backgroundTask(id: $id) { state upstreamTaskId error { code message } } }';

interface TaskView {
  state: string;
  upstreamTaskId: string | null;
  error: { code: string; message: string } | null;
}

let png: Buffer;

beforeAll(async () => {
  png = await transparentPng(320, 320);
});

/** The settings every scenario starts from, with `options` on top. */
function withDefaults(
  options: { engine?: NonNullable<StackOptions>['engine']; env?: Record<string, string> } = {},
): StackOptions & { env: Record<string, string> } {
  return {
    engine: { durationMs: 600, ...options.engine },
    env: { PICWISH_QPS: '50', ...options.env },
  };
}

// Every scenario has a gateway and engine of its own ('test'), so fault queues are never shared.
const it = stackTest(withDefaults(), 'test');
// Every call must answer within the timeout, the create with its upload too, while the hung poll
// must outlast it: 8 s leaves room for a busy machine (the task ended FAILED at 800 ms under load,
// and at 2 s with the machine at load 17).
const itPatientCalls = stackTest(withDefaults({ env: { PICWISH_TIMEOUT_MS: '8000' } }), 'test');
const itShortTimeout = stackTest(withDefaults({ env: { PICWISH_TIMEOUT_MS: '800' } }), 'test');
const itWrongKey = stackTest(withDefaults({ env: { PICWISH_API_KEY: WRONG_KEY } }), 'test');
const itShortDeadline = stackTest(withDefaults({ env: { PICWISH_TASK_DEADLINE_MS: '3000' } }), 'test');

async function submit(stack: TestStack): Promise<string> {
  const answer = await uploadOperation(
    stack.url,
    GENERATE_INPUT,
    { input: { image: { file: null }, background: { prompt: 'white marble counter' }, batchSize: 1 } },
    { variablePath: 'variables.input.image.file', bytes: png },
  );
  const id = (answer.body.data?.generateBackground as { id?: string } | undefined)?.id;
  expect(id, JSON.stringify(answer.body)).toEqual(expect.any(String));
  return id as string;
}

async function read(stack: TestStack, id: string): Promise<TaskView> {
  const answer = await stack.gql<{ backgroundTask: TaskView | null }>(TASK, { id });
  const task = answer.body.data?.backgroundTask;
  if (!task) throw new Error(`task ${id} is gone: ${JSON.stringify(answer.body)}`);
  return task;
}

/** Waits for the task's final state, generously: the machine may be busy. */
function settled(stack: TestStack, id: string, timeoutMs = 40_000): Promise<TaskView> {
  return eventually(async () => ifFinal(await read(stack, id)), timeoutMs, 150);
}

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

const hasPython = spawnSync('python3', ['--version']).status === 0;

/**
 * A port whose connections never open: a listener with a backlog of 0 that never accepts, its one
 * queue slot taken, so the kernel drops further SYNs (Node itself cannot listen without accepting).
 */
async function unacceptingListener(): Promise<{ url: string; close: () => void }> {
  const child = spawn('python3', [
    '-c',
    'import socket,sys,time\ns=socket.socket();s.bind(("127.0.0.1",0));s.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(120)',
  ]);
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (data) => resolve(Number(String(data).trim())));
    child.once('error', reject);
  });
  const filler = connect(port, '127.0.0.1');
  filler.on('error', () => {});
  await new Promise((resolve) => filler.once('connect', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      filler.destroy();
      child.kill();
    },
  };
}

describe.concurrent('transient faults are ridden out to SUCCEEDED', () => {
  it('retries a create answered 500 then 502 and succeeds with one accepted create', async ({ stack }) => {
    stack.engine.faults.createFaults.push({ status: 500 }, { status: 502 });
    const task = await settled(stack, await submit(stack));
    expect(task).toMatchObject({ state: 'SUCCEEDED', error: null });
    expect(stack.engine.stats()).toMatchObject({ createAttempts: 3, creates: 1 });
  });

  it('retries a create answered with a proxy’s HTML error page', async ({ stack }) => {
    stack.engine.faults.createFaults.push({ kind: 'html', status: 502 });
    const task = await settled(stack, await submit(stack));
    expect(task.state).toBe('SUCCEEDED');
    expect(stack.engine.stats()).toMatchObject({ createAttempts: 2, creates: 1 });
  });

  it('retries a create answered 429 after the Retry-After pause', async ({ stack }) => {
    stack.engine.faults.createFaults.push({ status: 429, retryAfterSeconds: 1 });
    const task = await settled(stack, await submit(stack));
    expect(task.state).toBe('SUCCEEDED');
    expect(stack.engine.stats()).toMatchObject({ createAttempts: 2, creates: 1 });
  });

  it('rides out polls answered 500, 502 and 503', async ({ stack }) => {
    stack.engine.faults.pollFaults.push({ status: 500 }, { status: 502 }, { status: 503 });
    const task = await settled(stack, await submit(stack));
    expect(task).toMatchObject({ state: 'SUCCEEDED', error: null });
    expect(stack.engine.stats().creates).toBe(1);
  });

  it('rides out a poll answered with an HTML error page', async ({ stack }) => {
    stack.engine.faults.pollFaults.push({ kind: 'html' }, { kind: 'html', status: 500 });
    const task = await settled(stack, await submit(stack));
    expect(task.state).toBe('SUCCEEDED');
  });

  it('rides out a poll answered 200 with a body that is not JSON', async ({ stack }) => {
    stack.engine.faults.pollFaults.push({ kind: 'html', status: 200 });
    const task = await settled(stack, await submit(stack));
    expect(task.state).toBe('SUCCEEDED');
  });

  it('rides out a 429 during polling', async ({ stack }) => {
    stack.engine.faults.pollFaults.push({ status: 429, retryAfterSeconds: 1 }, { status: 429 });
    const task = await settled(stack, await submit(stack));
    expect(task.state).toBe('SUCCEEDED');
  });

  itPatientCalls('rides out a poll that hangs past PICWISH_TIMEOUT_MS', async ({ stack }) => {
    stack.engine.faults.pollFaults.push({ kind: 'hang' });
    const task = await settled(stack, await submit(stack));
    expect(task.state).toBe('SUCCEEDED');
    expect(stack.engine.stats().creates).toBe(1);
  });

  it('rides out a poll whose connection is reset', async ({ stack }) => {
    stack.engine.faults.pollFaults.push({ kind: 'reset' });
    const task = await settled(stack, await submit(stack));
    expect(task.state).toBe('SUCCEEDED');
  });

  it('shows a subscriber no error for a failed poll, only the task running to SUCCEEDED', async ({
    stack,
  }) => {
    stack.engine.faults.pollFaults.push({ status: 502 }, { kind: 'html' });
    const id = await submit(stack);
    const { status, events } = await readSse(`${stack.url}/graphql`, {
      body: JSON.stringify({
        query: 'subscription Follow($id: ID!) { backgroundTaskUpdated(id: $id) { state error { code } } }',
        variables: { id },
      }),
    });
    expect(status).toBe(200);
    const payloads = events.filter((event) => event.event === 'next').map((event) => event.data);
    expect(payloads.length).toBeGreaterThan(0);
    for (const payload of payloads) expect(payload).not.toHaveProperty('errors');
    const states = payloads.map(
      (payload) =>
        (payload as { data: { backgroundTaskUpdated: { state: string } } }).data.backgroundTaskUpdated.state,
    );
    expect(states.at(-1)).toBe('SUCCEEDED');
    expect(states).not.toContain('FAILED');
    expect(events.at(-1)?.event).toBe('complete');
  });
});

describe.concurrent('refusals on submit end the task precisely, without retrying', () => {
  it('ends a create answered 400 in UPSTREAM_REJECTED with PicWish’s message', async ({ stack }) => {
    stack.engine.faults.createFaults.push({ status: 400, message: 'scene_type 9999 does not exist' });
    const task = await settled(stack, await submit(stack));
    expect(task.state).toBe('FAILED');
    expect(task.error?.code).toBe('UPSTREAM_REJECTED');
    expect(task.error?.message).toContain('scene_type 9999 does not exist');
    expect(stack.engine.stats().createAttempts).toBe(1);
  });

  it('ends a create answered 401 in UPSTREAM_AUTH_FAILED without repeating the key', async ({ stack }) => {
    // A PicWish that echoes the key it refused must not make the gateway leak it.
    stack.engine.faults.createFaults.push({ status: 401, message: `invalid API key ${stack.engine.apiKey}` });
    const task = await settled(stack, await submit(stack));
    expect(task.state).toBe('FAILED');
    expect(task.error?.code).toBe('UPSTREAM_AUTH_FAILED');
    expect(task.error?.message).not.toContain(stack.engine.apiKey);
    expect(stack.engine.stats().createAttempts).toBe(1);
  });

  itWrongKey(
    'ends a task in UPSTREAM_AUTH_FAILED when the gateway’s PicWish key is wrong, not naming the key',
    async ({ stack }) => {
      const task = await settled(stack, await submit(stack));
      expect(task.error?.code).toBe('UPSTREAM_AUTH_FAILED');
      expect(task.error?.message).not.toContain(WRONG_KEY);
      expect(task.error?.message).not.toContain(stack.engine.apiKey);
      expect(stack.engine.stats()).toMatchObject({ createAttempts: 1, creates: 0 });
    },
  );

  it('ends a create answered 413 in IMAGE_TOO_LARGE', async ({ stack }) => {
    stack.engine.faults.createFaults.push({ status: 413 });
    const task = await settled(stack, await submit(stack));
    expect(task).toMatchObject({ state: 'FAILED', error: { code: 'IMAGE_TOO_LARGE' } });
    expect(stack.engine.stats().createAttempts).toBe(1);
  });
});

describe.concurrent('a create that may have reached PicWish is never sent twice', () => {
  // A PicWish that answers every create 200 without a task_id, counting the creates. The gateway
  // of the test that uses it is told its port once it listens, before that test starts it.
  let creates = 0;
  const fake: Server = createServer((req, res) => {
    if (req.method === 'POST') creates += 1;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 200, message: 'success', data: {} }));
    });
  });
  const onFake = withDefaults();
  const itOnFake = stackTest(onFake, 'test');
  beforeAll(async () => {
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    const { port } = fake.address() as AddressInfo;
    onFake.env.PICWISH_BASE_URL = `http://127.0.0.1:${port}`;
  });
  // After the test's own gateway has closed (at the test's end).
  afterAll(async () => {
    fake.closeAllConnections();
    await new Promise<void>((resolve) => fake.close(() => resolve()));
  });

  itShortTimeout(
    'ends a hung create in UPSTREAM_OUTCOME_UNKNOWN after exactly one attempt',
    async ({ stack }) => {
      stack.engine.faults.createFaults.push({ kind: 'hang' });
      const task = await settled(stack, await submit(stack));
      expect(task).toMatchObject({
        state: 'FAILED',
        upstreamTaskId: null,
        error: { code: 'UPSTREAM_OUTCOME_UNKNOWN' },
      });
      // Long enough for a retry to have happened, had there been one.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(stack.engine.stats().createAttempts).toBe(1);
    },
  );

  it('ends a create whose connection is reset after sending in UPSTREAM_OUTCOME_UNKNOWN', async ({
    stack,
  }) => {
    stack.engine.faults.createFaults.push({ kind: 'reset' });
    const task = await settled(stack, await submit(stack));
    expect(task.error?.code).toBe('UPSTREAM_OUTCOME_UNKNOWN');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(stack.engine.stats().createAttempts).toBe(1);
  });

  it('ends a create answered 200 with HTML instead of JSON in UPSTREAM_OUTCOME_UNKNOWN', async ({
    stack,
  }) => {
    stack.engine.faults.createFaults.push({ kind: 'html', status: 200 });
    const task = await settled(stack, await submit(stack));
    expect(task.error?.code).toBe('UPSTREAM_OUTCOME_UNKNOWN');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(stack.engine.stats().createAttempts).toBe(1);
  });

  itOnFake(
    'ends a create answered 200 without a task_id in UPSTREAM_OUTCOME_UNKNOWN after exactly one attempt',
    async ({ stack }) => {
      const task = await settled(stack, await submit(stack));
      expect(task.error?.code).toBe('UPSTREAM_OUTCOME_UNKNOWN');
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(creates).toBe(1);
    },
  );
});

describe.concurrent('deadlines', () => {
  // Two scenarios point the gateway at a PicWish address worked out before they start their
  // gateways: a port nothing listens on, and one whose connections never open (python3 only).
  const unreachable = withDefaults({ env: { PICWISH_TASK_DEADLINE_MS: '3000' } });
  const itUnreachable = stackTest(unreachable, 'test');
  const blackholed = withDefaults({ env: { PICWISH_TIMEOUT_MS: '800', PICWISH_TASK_DEADLINE_MS: '3000' } });
  const itBlackholed = stackTest(blackholed, 'test');
  let blackhole: { url: string; close: () => void } | undefined;
  beforeAll(async () => {
    unreachable.env.PICWISH_BASE_URL = await closedPortUrl();
    if (hasPython) {
      blackhole = await unacceptingListener();
      blackholed.env.PICWISH_BASE_URL = blackhole.url;
    }
  });
  // After the tests' own gateways have closed (each at its test's end).
  afterAll(() => blackhole?.close());

  itUnreachable(
    'ends a task whose upstream cannot be reached at all in UPSTREAM_UNAVAILABLE after its deadline',
    async ({ stack }) => {
      const started = Date.now();
      const task = await settled(stack, await submit(stack));
      expect(task).toMatchObject({ state: 'FAILED', error: { code: 'UPSTREAM_UNAVAILABLE' } });
      // Not given up before the deadline: connection failures are retried until then.
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_900);
      expect(stack.engine.stats().createAttempts).toBe(0);
    },
  );

  itBlackholed.skipIf(!hasPython)(
    'retries creates whose connection never opens and ends UPSTREAM_UNAVAILABLE, not OUTCOME_UNKNOWN',
    async ({ stack }) => {
      const task = await settled(stack, await submit(stack));
      expect(task).toMatchObject({ state: 'FAILED', error: { code: 'UPSTREAM_UNAVAILABLE' } });
    },
  );

  itShortDeadline(
    'ends a task PicWish accepted but never finished in DEADLINE_EXCEEDED',
    async ({ stack }) => {
      stack.engine.faults.acceptCreatesWithoutProcessing = true;
      const task = await settled(stack, await submit(stack));
      expect(task.state).toBe('FAILED');
      expect(task.error?.code).toBe('DEADLINE_EXCEEDED');
      expect(task.upstreamTaskId).toEqual(expect.any(String));
      expect(stack.engine.stats().creates).toBe(1);
    },
  );
});

describe.concurrent('upstream failure states map one to one onto TaskError codes', () => {
  it.for([
    [-1, 'GENERATION_FAILED'],
    [-2, 'RESULT_UPLOAD_FAILED'],
    [-3, 'IMAGE_DOWNLOAD_FAILED'],
    [-5, 'IMAGE_TOO_LARGE'],
    [-7, 'INVALID_IMAGE'],
    [-8, 'TIMEOUT'],
  ] as const)(
    'ends a task PicWish finished in state %i as FAILED with %s',
    async ([state, code], { stack }) => {
      stack.engine.faults.nextTaskStates.push(state);
      const task = await settled(stack, await submit(stack));
      expect(task).toMatchObject({ state: 'FAILED', error: { code } });
      expect(task.error?.message).toEqual(expect.any(String));
      expect(stack.engine.stats()).toMatchObject({ createAttempts: 1, creates: 1 });
    },
  );
});
