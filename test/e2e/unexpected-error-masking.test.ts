import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { DEFAULT_SCENE_TYPES } from '../../src/config/scene-types.js';
import { startGateway } from '../../src/gateway/app.js';
import { GENERATE_INPUT } from '../support/fixtures.js';
import { eventually, uploadOperation } from '../support/harness.js';
import { FILE_PATH, refusalTest } from './input-refusals.js';

/** An unexpected server fault is masked as INTERNAL_SERVER_ERROR and logged once with the request id the client gets. */

const it = refusalTest();

describe('unexpected errors', () => {
  it('are masked as INTERNAL_SERVER_ERROR and logged once with the request id the client gets', async ({
    stack,
    good,
  }) => {
    const lines: Record<string, unknown>[] = [];
    const capture = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line));
        done();
      },
    });
    const dataDir = mkdtempSync(join(tmpdir(), 'gw-mask-'));
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      PICWISH_API_KEY: stack.engine.apiKey,
      PICWISH_BASE_URL: stack.engine.url,
      NODE_ENV: 'production',
    });
    if (!config.ok) throw new Error(config.error.message);
    const gateway = await startGateway(config.value, pino({ level: 'info' }, capture), DEFAULT_SCENE_TYPES);
    try {
      // Without its spool directory the gateway cannot store an upload: a server fault, not the client's.
      rmSync(join(dataDir, 'spool'), { recursive: true, force: true });
      const answer = await uploadOperation(
        gateway.url,
        GENERATE_INPUT,
        { input: { image: { file: null }, background: { prompt: 'x' } } },
        { variablePath: FILE_PATH, bytes: good },
        { 'apollo-require-preflight': 'true', 'x-request-id': 'client-chosen-id-42' },
      );
      const [error] = answer.body.errors ?? [];
      expect(error?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      expect(error?.message).toBe('Unexpected error.');
      expect(JSON.stringify(answer.body)).not.toContain('ENOENT');
      expect(JSON.stringify(answer.body)).not.toContain(dataDir);
      const requestId = error?.extensions?.requestId;
      // The id the client chose in x-request-id comes back, so it can match its own logs too.
      expect(requestId).toBe('client-chosen-id-42');
      // The error line may be written after the answer: wait for it, then a little longer for a
      // second one that must not come.
      await eventually(async () => (lines.some((line) => (line.level as number) >= 50) ? true : undefined));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const errorLogs = lines.filter((line) => (line.level as number) >= 50);
      expect(errorLogs, JSON.stringify(errorLogs)).toHaveLength(1);
      expect(errorLogs[0]?.requestId).toBe(requestId);
      expect(JSON.stringify(errorLogs[0])).toContain('ENOENT');
      expect(stack.engine.stats().createAttempts).toBe(0);
    } finally {
      await gateway.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
