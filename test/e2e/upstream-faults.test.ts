import { spawn, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalEngineOptions } from '../../src/local-engine/index.js';
import { GENERATE_INPUT, transparentPng } from '../support/fixtures.js';
import { eventually, readSse, startStack, type TestStack, uploadOperation } from '../support/harness.js';
import { ifFinal } from '../support/task-ops.js';

/**
 * PicWish misbehaving, acted out by the local engine's fault switches over real HTTP: blips are
 * ridden out to SUCCEEDED, refusals end in a precise TaskError, and a create that may have
 * reached PicWish is never sent twice. Every scenario has its own engine and gateway, so they run
 * concurrently without sharing fault queues.
 */

const TASK =
  'query Task($id: ID!) { backgroundTask(id: $id) { state upstreamTaskId error { code message } } }';

interface TaskView {
  state: string;
  upstreamTaskId: string | null;
  error: { code: string; message: string } | null;
}

let png: Buffer;
const stacks: TestStack[] = [];

beforeAll(async () => {
  png = await transparentPng(320, 320);
});

afterAll(async () => {
  await Promise.allSettled(stacks.map((stack) => stack.close()));
});

async function stackWith(
  options: { engine?: LocalEngineOptions; env?: Record<string, string> } = {},
): Promise<TestStack> {
  const stack = await startStack({
    engine: { durationMs: 600, ...options.engine },
    env: { PICWISH_QPS: '50', ...options.env },
  });
  stacks.push(stack);
  return stack;
}

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
  it('retries a create answered 500 then 502 and succeeds with one accepted create', async () => {
    const stack = await stackWith();
    stack.engine.faults.createFaults.push({ status: 500 }, { status: 502 });
    const task = await settled(stack, await submit(stack));
    expect(task).toMatchObject({ state: 'SUCCEEDED', error: null });
    expect(stack.engine.stats()).toMatchObject({ createAttempts: 3, creates: 1 });
  });

  it('retries a create answered with a proxy’s HTML error page', async () => {
    const stack = await stackWith();
    stack.engine.faults.createFaults.push({ kind: 'html', status: 502 });
    const task = await settled(stack, await submit(stack));
    expect(task.state).toBe('SUCCEEDED');
    expect(stack.engine.stats()).toMatchObject({ createAttempts: 2, creates: 1 });
  });

  it('retries a create answered 429 after the Retry-After pause', async () => {
    const stack = await stackWith();
    stack.engine.faults.createFaults.push({ status: 429, retryAfterSeconds: 1 });
    const task = await settled(stack, await submit(stack));
    expect(task.state).toBe('SUCCEEDED');
    expect(stack.engine.stats()).toMatchObject({ createAttempts: 2, creates: 1 });
  });

  it('rides out polls answered 500, 502 and 503', async () => {
    const stack = await stackWith();
    stack.engine.faults.pollFaults.push({ status: 500 }, { status: 502 }, { status: 503 });
    const task = await settled(stack, await submit(stack));
    expect(task).toMatchObject({ state: 'SUCCEEDED', error: null });
    expect(stack.engine.stats().creates).toBe(1);
  });

  it('rides out a poll answered with an HTML error page', async () => {
    const stack = await stackWith();
    stack.engine.faults.pollFaults.push({ kind: 'html' }, { kind: 'html', status: 500 });
    const task = await settled(stack, await submit(stack));
    expect(task.state).toBe('SUCCEEDED');
  });

  it('rides out a poll answered 200 with a body that is not JSON', async () => {
    const stack = await stackWith();
    stack.engine.faults.pollFaults.push({ kind: 'html', status: 200 });
    const task = await settled(stack, await submit(stack));
    expect(task.state).toBe('SUCCEEDED');
  });

  it('rides out a 429 during polling', async () => {
    const stack = await stackWith();
    stack.engine.faults.pollFaults.push({ status: 429, retryAfterSeconds: 1 }, { status: 429 });
    const task = await settled(stack, await submit(stack));
    expect(task.state).toBe('SUCCEEDED');
  });

  it('rides out a poll that hangs past PICWISH_TIMEOUT_MS', async () => {
    // Every call must answer within the timeout, the create with its upload too: 2 s leaves room
    // for a busy machine (at 800 ms the task ended FAILED once under load).
    const stack = await stackWith({ env: { PICWISH_TIMEOUT_MS: '2000' } });
    stack.engine.faults.pollFaults.push({ kind: 'hang' });
    const task = await settled(stack, await submit(stack));
    expect(task.state).toBe('SUCCEEDED');
    expect(stack.engine.stats().creates).toBe(1);
  });

  it('rides out a poll whose connection is reset', async () => {
    const stack = await stackWith();
    stack.engine.faults.pollFaults.push({ kind: 'reset' });
    const task = await settled(stack, await submit(stack));
    expect(task.state).toBe('SUCCEEDED');
  });

  it('shows a subscriber no error for a failed poll, only the task running to SUCCEEDED', async () => {
    const stack = await stackWith();
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
  it('ends a create answered 400 in UPSTREAM_REJECTED with PicWish’s message', async () => {
    const stack = await stackWith();
    stack.engine.faults.createFaults.push({ status: 400, message: 'scene_type 9999 does not exist' });
    const task = await settled(stack, await submit(stack));
    expect(task.state).toBe('FAILED');
    expect(task.error?.code).toBe('UPSTREAM_REJECTED');
    expect(task.error?.message).toContain('scene_type 9999 does not exist');
    expect(stack.engine.stats().createAttempts).toBe(1);
  });

  it('ends a create answered 401 in UPSTREAM_AUTH_FAILED without repeating the key', async () => {
    const stack = await stackWith();
    // A PicWish that echoes the key it refused must not make the gateway leak it.
    stack.engine.faults.createFaults.push({ status: 401, message: `invalid API key ${stack.engine.apiKey}` });
    const task = await settled(stack, await submit(stack));
    expect(task.state).toBe('FAILED');
    expect(task.error?.code).toBe('UPSTREAM_AUTH_FAILED');
    expect(task.error?.message).not.toContain(stack.engine.apiKey);
    expect(stack.engine.stats().createAttempts).toBe(1);
  });

  it('ends a task in UPSTREAM_AUTH_FAILED when the gateway’s PicWish key is wrong, not naming the key', async () => {
    const wrongKey = 'wrong-key-0123456789abcdef';
    const stack = await stackWith({ env: { PICWISH_API_KEY: wrongKey } });
    const task = await settled(stack, await submit(stack));
    expect(task.error?.code).toBe('UPSTREAM_AUTH_FAILED');
    expect(task.error?.message).not.toContain(wrongKey);
    expect(task.error?.message).not.toContain(stack.engine.apiKey);
    expect(stack.engine.stats()).toMatchObject({ createAttempts: 1, creates: 0 });
  });

  it('ends a create answered 413 in IMAGE_TOO_LARGE', async () => {
    const stack = await stackWith();
    stack.engine.faults.createFaults.push({ status: 413 });
    const task = await settled(stack, await submit(stack));
    expect(task).toMatchObject({ state: 'FAILED', error: { code: 'IMAGE_TOO_LARGE' } });
    expect(stack.engine.stats().createAttempts).toBe(1);
  });
});

describe.concurrent('a create that may have reached PicWish is never sent twice', () => {
  it('ends a hung create in UPSTREAM_OUTCOME_UNKNOWN after exactly one attempt', async () => {
    const stack = await stackWith({ env: { PICWISH_TIMEOUT_MS: '800' } });
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
  });

  it('ends a create whose connection is reset after sending in UPSTREAM_OUTCOME_UNKNOWN', async () => {
    const stack = await stackWith();
    stack.engine.faults.createFaults.push({ kind: 'reset' });
    const task = await settled(stack, await submit(stack));
    expect(task.error?.code).toBe('UPSTREAM_OUTCOME_UNKNOWN');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(stack.engine.stats().createAttempts).toBe(1);
  });

  it('ends a create answered 200 with HTML instead of JSON in UPSTREAM_OUTCOME_UNKNOWN', async () => {
    const stack = await stackWith();
    stack.engine.faults.createFaults.push({ kind: 'html', status: 200 });
    const task = await settled(stack, await submit(stack));
    expect(task.error?.code).toBe('UPSTREAM_OUTCOME_UNKNOWN');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(stack.engine.stats().createAttempts).toBe(1);
  });

  it('ends a create answered 200 without a task_id in UPSTREAM_OUTCOME_UNKNOWN after exactly one attempt', async () => {
    let creates = 0;
    const fake: Server = createServer((req, res) => {
      if (req.method === 'POST') creates += 1;
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 200, message: 'success', data: {} }));
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = fake.address() as AddressInfo;
      const stack = await stackWith({ env: { PICWISH_BASE_URL: `http://127.0.0.1:${port}` } });
      const task = await settled(stack, await submit(stack));
      expect(task.error?.code).toBe('UPSTREAM_OUTCOME_UNKNOWN');
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(creates).toBe(1);
    } finally {
      fake.closeAllConnections();
      await new Promise<void>((resolve) => fake.close(() => resolve()));
    }
  });
});

describe.concurrent('deadlines', () => {
  it('ends a task whose upstream cannot be reached at all in UPSTREAM_UNAVAILABLE after its deadline', async () => {
    const stack = await stackWith({
      env: { PICWISH_BASE_URL: await closedPortUrl(), PICWISH_TASK_DEADLINE_MS: '3000' },
    });
    const started = Date.now();
    const task = await settled(stack, await submit(stack));
    expect(task).toMatchObject({ state: 'FAILED', error: { code: 'UPSTREAM_UNAVAILABLE' } });
    // Not given up before the deadline: connection failures are retried until then.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_900);
    expect(stack.engine.stats().createAttempts).toBe(0);
  });

  it.skipIf(!hasPython)(
    'retries creates whose connection never opens and ends UPSTREAM_UNAVAILABLE, not OUTCOME_UNKNOWN',
    async () => {
      const blackhole = await unacceptingListener();
      try {
        const stack = await stackWith({
          env: {
            PICWISH_BASE_URL: blackhole.url,
            PICWISH_TIMEOUT_MS: '800',
            PICWISH_TASK_DEADLINE_MS: '3000',
          },
        });
        const task = await settled(stack, await submit(stack));
        expect(task).toMatchObject({ state: 'FAILED', error: { code: 'UPSTREAM_UNAVAILABLE' } });
      } finally {
        blackhole.close();
      }
    },
  );

  it('ends a task PicWish accepted but never finished in DEADLINE_EXCEEDED', async () => {
    const stack = await stackWith({ env: { PICWISH_TASK_DEADLINE_MS: '3000' } });
    stack.engine.faults.acceptCreatesWithoutProcessing = true;
    const task = await settled(stack, await submit(stack));
    expect(task.state).toBe('FAILED');
    expect(task.error?.code).toBe('DEADLINE_EXCEEDED');
    expect(task.upstreamTaskId).toEqual(expect.any(String));
    expect(stack.engine.stats().creates).toBe(1);
  });
});

describe.concurrent('upstream failure states map one to one onto TaskError codes', () => {
  it.each([
    [-1, 'GENERATION_FAILED'],
    [-2, 'RESULT_UPLOAD_FAILED'],
    [-3, 'IMAGE_DOWNLOAD_FAILED'],
    [-5, 'IMAGE_TOO_LARGE'],
    [-7, 'INVALID_IMAGE'],
    [-8, 'TIMEOUT'],
  ])('ends a task PicWish finished in state %i as FAILED with %s', async (state, code) => {
    const stack = await stackWith();
    stack.engine.faults.nextTaskStates.push(state);
    const task = await settled(stack, await submit(stack));
    expect(task).toMatchObject({ state: 'FAILED', error: { code } });
    expect(task.error?.message).toEqual(expect.any(String));
    expect(stack.engine.stats()).toMatchObject({ createAttempts: 1, creates: 1 });
  });
});
