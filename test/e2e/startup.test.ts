import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { DEFAULT_SCENE_TYPES } from '../../src/config/scene-types.js';
import { type Gateway, startGateway } from '../../src/gateway/app.js';
import { type LocalEngine, startLocalEngine } from '../../src/local-engine/index.js';
import { TaskScheduler } from '../../src/scheduler/scheduler.js';
import { freePort, spawnGateway } from '../support/cluster.js';
import { eventually } from '../support/harness.js';

/**
 * A gateway answers every connection it accepts, also while it is still starting: adopting
 * unfinished tasks is held here (the scheduler's start waits for the test), and requests in that
 * window must get a prompt "starting" answer, not hang.
 */

let engine: LocalEngine;
let dataDir: string;
let url: string;
let releaseStart: () => void;
let starting: Promise<Gateway>;

beforeAll(async () => {
  engine = await startLocalEngine({ durationMs: 200 });
  dataDir = mkdtempSync(join(tmpdir(), 'gw-startup-'));
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  const held = new Promise<void>((resolve) => {
    releaseStart = resolve;
  });
  const realStart = TaskScheduler.prototype.start;
  vi.spyOn(TaskScheduler.prototype, 'start').mockImplementation(async function (this: TaskScheduler) {
    await held;
    return realStart.call(this);
  });
  const config = loadConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    PICWISH_API_KEY: engine.apiKey,
    PICWISH_BASE_URL: engine.url,
    LOG_LEVEL: 'silent',
  });
  if (!config.ok) throw new Error(config.error.message);
  starting = startGateway(config.value, pino({ level: 'silent' }), DEFAULT_SCENE_TYPES);
  // The port opens before adoption finishes; wait until it answers at all.
  await eventually(() =>
    fetch(`${url}/healthz`).then(
      (response) => (response.ok ? true : undefined),
      () => undefined,
    ),
  );
});

afterAll(async () => {
  releaseStart();
  vi.restoreAllMocks();
  await (await starting).close();
  await engine.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('a gateway that is still starting', () => {
  it('says "starting" on /readyz with 503, and stays alive on /healthz', async () => {
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.headers.get('retry-after')).toBe('1');
    expect(await ready.json()).toEqual({ status: 'starting' });
    const health = await fetch(`${url}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });
  });

  it('answers a GraphQL request at once with 503 STARTING instead of leaving it hanging', async () => {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ sceneTypes { id } }' }),
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('STARTING');
  });

  it('serves the routes and turns ready once tasks are adopted', async () => {
    releaseStart();
    const gateway = await starting;
    expect(gateway.url).toBe(url);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });
    const answer = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ sceneTypes { id } }' }),
    });
    expect(answer.status).toBe(200);
  });
});

describe('a gateway still configured for the retired Redis mode', () => {
  it('refuses to start with REDIS_URL set: exit code 78, naming DATABASE_URL and BLOB_STORE_URL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-redis-url-'));
    try {
      const started = spawnGateway('redis-url', {
        REDIS_URL: 'redis://:hunter2-secret@127.0.0.1:6379/0',
        DATA_DIR: dir,
        PICWISH_API_KEY: engine.apiKey,
        PICWISH_BASE_URL: engine.url,
      });
      const refusal = await started.then(
        () => null,
        (error: unknown) => (error as Error).message,
      );
      expect(refusal).toMatch(/exited \(78\) before listening/);
      expect(refusal).toContain('Configuration error (REDIS_URL)');
      expect(refusal).toMatch(/Redis cluster mode was removed/);
      expect(refusal).toContain('DATABASE_URL');
      expect(refusal).toContain('BLOB_STORE_URL');
      expect(refusal).not.toContain('hunter2');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
