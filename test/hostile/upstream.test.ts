import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { PicWishClient } from '../../src/upstream/client.js';
import { generateUpload, transparentPng } from '../support/fixtures.js';
import { type TestStack, uploadOperation } from '../support/harness.js';
import {
  json,
  type PicWishDouble,
  type ScriptedAnswer,
  startPicWishDouble,
} from '../support/picwish-double.js';
import { stackTest } from '../support/stack-test.js';
import { settled } from '../support/task-ops.js';

/**
 * A misbehaving or hostile PicWish (or a proxy in front of it): answers too big to parse, its
 * words echoing the key, a `completed_at` in 1970, more images than were paid for, no answer at
 * all. Everything runs against the suite's PicWish double (test/support/picwish-double.ts) answering
 * from a script instead of its engine, on loopback.
 */

const KEY = 'pw-secret-key-0123456789';
const TASK_ID = 'up-task-1';
const fakes: PicWishDouble[] = [];
let png: Buffer;

beforeAll(async () => {
  png = await transparentPng(320, 320);
});
afterAll(async () => {
  await Promise.allSettled(fakes.map((fake) => fake.close()));
});

/** The suite's PicWish double with every create and poll answered by the script, never the engine. */
async function fake(answers: { create: ScriptedAnswer; poll?: ScriptedAnswer }): Promise<PicWishDouble> {
  const started = await startPicWishDouble();
  fakes.push(started);
  started.faults.createAnswer = answers.create;
  started.faults.pollAnswer = answers.poll ?? answers.create;
  return started;
}

function client(url: string, options: { timeoutMs?: number; maxAnswerBytes?: number } = {}): PicWishClient {
  return new PicWishClient({ baseUrl: url, apiKey: KEY, timeoutMs: options.timeoutMs ?? 5_000, ...options });
}

const created = json(200, { status: 200, message: 'ok', data: { task_id: TASK_ID } });

/** The hostile upstream the gateway is pointed at, started by the beforeAll of its describe below. */
let upstream: PicWishDouble;
/** Every line the gateway logs. */
const lines: string[] = [];

/**
 * The gateway of 'the gateway against a hostile upstream', reaching `upstream` through a proxy's
 * credentials. A file's fixtures are declared at its top level, so its options are a function:
 * called when a test first asks for `stack`, once that describe's beforeAll has started `upstream`.
 * The client's tests ask for no `stack` and start none.
 */
const proxiedUpstream = (): string => {
  const base = new URL(upstream.url);
  base.username = 'proxyuser';
  base.password = 'proxy-password-77';
  return base.toString();
};
const it = stackTest(() => ({
  env: { PICWISH_API_KEY: KEY, PICWISH_BASE_URL: proxiedUpstream(), LOG_LEVEL: 'info' },
  logger: pino(
    { level: 'info' },
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  ),
}));

describe('the PicWish client against a hostile upstream', () => {
  it('drops a poll answer over its size cap without parsing it (announced or chunked)', async () => {
    const chunk = Buffer.alloc(256 * 1024, 0x20);
    const upstream = await fake({
      create: created,
      poll: (req, res) => {
        if (req.url?.endsWith('/announced')) {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': 200 * 1024 * 1024 });
          res.write('{"status":200,');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        for (let i = 0; i < 20; i++) res.write(chunk);
        res.end('{}');
      },
    });
    const small = client(upstream.url, { maxAnswerBytes: 1024 * 1024 });
    for (const id of ['announced', 'chunked']) {
      const answer = await small.getTask(id);
      expect(answer.ok).toBe(false);
      if (!answer.ok)
        expect(answer.error).toMatchObject({
          kind: 'transient',
          detail: expect.stringContaining('larger than'),
        });
    }
    await small.close();
  });

  it('drops a create answer over 64 KiB unread, as an outcome it cannot know (never sent twice)', async () => {
    const upstream = await fake({
      create: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 200, data: { task_id: TASK_ID, padding: 'x'.repeat(100 * 1024) } }));
      },
      poll: json(404, {}),
    });
    const c = client(upstream.url);
    const answer = await c.createTask({
      image: { kind: 'url', url: 'https://example.com/a.png' },
      prompt: 'p',
      sceneType: null,
      negativePrompt: null,
      batchSize: 1,
    });
    expect(answer.ok).toBe(false);
    if (!answer.ok)
      expect(answer.error).toMatchObject({
        kind: 'transient',
        detail: 'the answer was larger than 65536 bytes',
        mayHaveCreated: true,
      });
    await c.close();
  });

  it('says a timeout in words, not "network error 23"', async () => {
    const upstream = await fake({ create: () => {}, poll: () => {} });
    const slow = client(upstream.url, { timeoutMs: 300 });
    const answer = await slow.getTask('x');
    expect(answer.ok).toBe(false);
    if (!answer.ok)
      expect(answer.error).toMatchObject({ kind: 'transient', detail: 'no answer within 300 ms' });
    await slow.close();
  });

  it('scrubs the key (plain and percent-encoded) and other secrets from PicWish’s message and state_detail', async () => {
    const upstream = await fake({
      create: json(400, {
        status: 400,
        message: `bad key ${KEY} / ${encodeURIComponent(KEY)} / other-secret-42`,
      }),
      poll: json(200, { status: 200, data: { task_id: TASK_ID, state: 2, state_detail: `key=${KEY}` } }),
    });
    const c = new PicWishClient({
      baseUrl: upstream.url,
      apiKey: KEY,
      timeoutMs: 5_000,
      secrets: ['other-secret-42'],
    });
    const refused = await c.createTask({
      image: { kind: 'url', url: 'https://example.com/a.png' },
      prompt: 'p',
      sceneType: null,
      negativePrompt: null,
      batchSize: 1,
    });
    expect(JSON.stringify(refused)).not.toContain(KEY);
    expect(JSON.stringify(refused)).not.toContain('other-secret-42');
    expect(JSON.stringify(refused)).toContain('[redacted]');
    const polled = await c.getTask(TASK_ID);
    expect(polled.ok && polled.value.stateDetail).toBe('key=[redacted]');
    await c.close();
  });

  it('scrubs the key before cutting PicWish’s text, and in upper case and base64 forms (#27)', async () => {
    const upstream = await fake({
      create: json(400, {
        status: 400,
        message: `${'m'.repeat(490)}${KEY} / ${KEY.toUpperCase()} / Basic ${Buffer.from(`user:${KEY}`).toString('base64')}`,
      }),
      poll: json(200, {
        status: 200,
        data: {
          task_id: TASK_ID,
          state: -1,
          state_detail: `${'d'.repeat(190)}${KEY} ${KEY.toUpperCase()}`,
        },
      }),
    });
    const c = client(upstream.url);
    const refused = await c.createTask({
      image: { kind: 'url', url: 'https://example.com/a.png' },
      prompt: 'p',
      sceneType: null,
      negativePrompt: null,
      batchSize: 1,
    });
    const polled = await c.getTask(TASK_ID);
    await c.close();
    const base64Key = Buffer.from(`user:${KEY}`).toString('base64').slice(8, -4);
    for (const answer of [JSON.stringify(refused), JSON.stringify(polled)]) {
      // No part of the key longer than a few characters survives, in any case or encoding.
      for (let at = 0; at + 6 <= KEY.length; at += 1) {
        expect(answer.toLowerCase()).not.toContain(KEY.slice(at, at + 6).toLowerCase());
      }
      expect(answer).not.toContain(base64Key);
    }
    expect(polled.ok && polled.value.stateDetail).toBe(`${'d'.repeat(190)}[redacted]`);
  });
});

describe('the gateway against a hostile upstream', () => {
  beforeAll(async () => {
    const image = png.toString('base64');
    upstream = await fake({
      create: created,
      // Five images for a task that asked for one, "completed" in 1970, and the key in its words.
      poll: json(200, {
        status: 200,
        data: {
          task_id: TASK_ID,
          state: 1,
          progress: 100,
          state_detail: `done for ${KEY}`,
          completed_at: 1,
          image_1: image,
          image_2: image,
          image_3: image,
          image_4: image,
          image,
        },
      }),
    });
  });

  async function submit(stack: TestStack, batchSize: number): Promise<string> {
    const answer = await uploadOperation(
      stack.url,
      generateUpload('id'),
      { file: null, prompt: 'marble', batch: batchSize },
      { variablePath: 'variables.file', bytes: png },
    );
    const id = (answer.body.data?.generateBackground as { id?: string } | undefined)?.id;
    expect(id, JSON.stringify(answer.body)).toEqual(expect.any(String));
    return id as string;
  }

  it('stores at most batchSize images, and a completed_at of 1 does not expire the results', async ({
    stack,
  }) => {
    const one = await settled(stack, await submit(stack, 1));
    expect(one.state).toBe('SUCCEEDED');
    expect(one.images).toHaveLength(1);
    const two = await settled(stack, await submit(stack, 2));
    expect(two.images).toHaveLength(2);
  });

  it('shows tenants PicWish’s state_detail without the key', async ({ stack }) => {
    const answer = await stack.gql<{
      backgroundTasks: { edges: { node: { stateDetail: string | null } }[] };
    }>('{ backgroundTasks(first: 5) { edges { node { stateDetail } } } }');
    const details = answer.body.data?.backgroundTasks.edges.map((edge) => edge.node.stateDetail) ?? [];
    expect(details.length).toBeGreaterThan(0);
    for (const detail of details) expect(detail).toBe('done for [redacted]');
  });

  it('prints PICWISH_BASE_URL without its credentials in /readyz and in the log', async ({ stack }) => {
    const readyz = await (await fetch(`${stack.url}/readyz`)).text();
    expect(readyz).not.toContain('proxy-password-77');
    expect(lines.join('')).toContain('gateway listening');
    expect(lines.join('')).not.toContain('proxy-password-77');
    expect(lines.join('')).not.toContain(KEY);
  });
});
