import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { startStack } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import { bearer, TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';

/** A gateway without keys serves only loopback: it refuses a public HOST, and other sites' pages and Host names. */

const it = stackTest({ env: { PUBLIC_URL: 'https://gateway.example.test' } });

describe('anonymous mode on a public interface', () => {
  it('refuses a non-loopback HOST without gateway keys, saying why and how to fix it', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'gateway.example.com']) {
      const result = loadConfig({ HOST: host });
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.variable).toBe('HOST');
        expect(result.error.message).toContain('GATEWAY_API_KEYS');
        expect(result.error.message).toContain('ALLOW_ANONYMOUS=true');
      }
    }
  });

  it('starts on loopback without keys, on a public HOST with keys, or with ALLOW_ANONYMOUS=true', () => {
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]']) {
      expect(loadConfig({ HOST: host }).ok).toBe(true);
    }
    expect(loadConfig({ HOST: '0.0.0.0', GATEWAY_API_KEYS: TWO_TENANT_KEYS }).ok).toBe(true);
    expect(loadConfig({ HOST: '0.0.0.0', ALLOW_ANONYMOUS: 'true' }).ok).toBe(true);
  });

  it('exits with code 78 and the reason when the process is started on 0.0.0.0 without keys', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gw-host-'));
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: process.cwd(),
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          HOST: '0.0.0.0',
          PORT: '0',
          DATA_DIR: dataDir,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const killer = setTimeout(() => child.kill('SIGKILL'), 45_000);
      const code = await new Promise<number | null>((resolve) =>
        child.on('exit', (exitCode) => resolve(exitCode)),
      );
      clearTimeout(killer);
      expect(code).toBe(78);
      expect(stderr).toContain('HOST=0.0.0.0');
      expect(stderr).toContain('GATEWAY_API_KEYS');
      expect(stderr).toContain('ALLOW_ANONYMOUS=true');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('anonymous local mode keeps other sites out', () => {
  const query = JSON.stringify({ query: '{ __typename }' });

  it("refuses a request from another site's page with 403 FORBIDDEN_ORIGIN, preflight included", async ({
    stack,
  }) => {
    const post = await fetch(`${stack.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body: query,
    });
    expect(post.status).toBe(403);
    expect(await post.text()).toContain('FORBIDDEN_ORIGIN');
    const preflight = await fetch(`${stack.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const stream = await fetch(`${stack.url}/graphql/stream`, { method: 'PUT', headers: { origin: 'null' } });
    expect(stream.status).toBe(403);
  });

  it('answers pages on loopback origins and on PUBLIC_URL, and clients that send no Origin', async ({
    stack,
  }) => {
    for (const origin of [
      'http://localhost:5173',
      'http://127.0.0.1:8080',
      'https://gateway.example.test',
      null,
    ]) {
      const response = await fetch(`${stack.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(origin ? { origin } : {}) },
        body: query,
      });
      expect(response.status, String(origin)).toBe(200);
      expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
    }
  });

  it('refuses requests addressed to a non-loopback Host name (DNS rebinding)', async ({ stack }) => {
    const rebound = await rawPost(stack.url, 'attacker.example:4000', query);
    expect(rebound.status).toBe(403);
    expect(rebound.body).toContain('FORBIDDEN_ORIGIN');
    expect((await rawPost(stack.url, 'localhost', query)).status).toBe(200);
    expect((await rawPost(stack.url, 'gateway.example.test', query)).status).toBe(200);
  });

  it('lets any origin through once gateway keys protect the gateway', async () => {
    const keyed = await startStack({ env: { GATEWAY_API_KEYS: TWO_TENANT_KEYS } });
    try {
      const response = await fetch(`${keyed.url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          origin: 'https://app.example',
          ...bearer(TENANTS.alpha),
        },
        body: query,
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example');
    } finally {
      await keyed.close();
    }
  });
});

/** A JSON POST with a chosen Host header (fetch does not allow setting it). */
function rawPost(base: string, host: string, body: string): Promise<{ status: number; body: string }> {
  const url = new URL('/graphql', base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        headers: { host, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
