import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorMasking } from '../../../../src/graphql/plugins/error-masking.js';
import { postOperation, servePlugins } from '../../../support/plugin-server.js';

/** errorMasking on its own: unexpected errors hidden, named by the request id, logged once. */

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

describe('errorMasking', () => {
  const dev = capturingLogger();
  const prod = capturingLogger();
  let development: Awaited<ReturnType<typeof servePlugins>>;
  let production: Awaited<ReturnType<typeof servePlugins>>;

  beforeAll(async () => {
    development = await servePlugins([], errorMasking({ logger: dev.logger }));
    production = await servePlugins([], errorMasking({ logger: prod.logger, production: true }));
  });
  afterAll(async () => {
    await development.close();
    await production.close();
  });

  it('hides an unexpected error behind INTERNAL_SERVER_ERROR with the request id, and logs it once under that id', async () => {
    const { body } = await postOperation(production.url, '{ boom }', undefined, { 'x-request-id': 'req-42' });
    const [error] = body.errors ?? [];
    expect(error?.message).toBe('Unexpected error.');
    expect(error?.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', requestId: 'req-42' });
    expect(JSON.stringify(body)).not.toContain('password');
    await new Promise((resolve) => setImmediate(resolve));
    const logged = prod.lines.filter((line) => line.level === 50);
    expect(logged).toHaveLength(1);
    expect(logged[0]?.requestId).toBe('req-42');
    expect(JSON.stringify(logged[0])).toContain('password');
  });

  it('adds the original message as `detail` outside production only', async () => {
    const { body } = await postOperation(development.url, '{ boom }');
    expect(body.errors?.[0]?.extensions?.detail).toContain('password');
  });

  it('passes an error meant for the client with its message and code', async () => {
    const { body } = await postOperation(production.url, '{ refused }');
    expect(body.errors?.[0]).toMatchObject({
      message: 'meant for the client',
      extensions: { code: 'NOT_FOUND' },
    });
  });

  it('keeps a request error 400 in production but drops its originalError (the parser quoting the body)', async () => {
    const response = await fetch(production.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: '{"query": "{ hello } secret-in-body',
    });
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).not.toContain('originalError');
    expect(text).not.toContain('secret-in-body');
  });
});
