import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalEngine } from '../../../src/local-engine/index.js';
import { transparentPng } from '../../support/fixtures.js';
import { type PicWishDouble, startPicWishDouble } from '../../support/picwish-double.js';

/**
 * Issue #18: the local engine runs on the gateway's host, so it must never fetch a URL (the
 * gateway fetches and checks image URLs and sends files), and it must not listen beyond loopback
 * unless told so on purpose.
 */

let engine: PicWishDouble;
let origin: Server;
let originUrl: string;
let originRequests = 0;

beforeAll(async () => {
  engine = await startPicWishDouble({ durationMs: 100 });
  const png = await transparentPng(300, 300);
  origin = createServer((_req, res) => {
    originRequests++;
    res.writeHead(200, { 'content-type': 'image/png' }).end(png);
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}/product.png`;
});

afterAll(async () => {
  await engine.close();
  await new Promise((resolve) => origin.close(resolve));
});

async function createWith(
  fields: Record<string, string>,
): Promise<{ status: number; body: { status: number; message: string } }> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  const response = await fetch(`${engine.url}/api/tasks/visual/background`, {
    method: 'POST',
    headers: { 'X-API-KEY': engine.apiKey },
    body: form,
  });
  return { status: response.status, body: (await response.json()) as { status: number; message: string } };
}

describe('the local engine and URLs', () => {
  it('refuses an image_url as PicWish refuses a bad parameter (400), creating and fetching nothing', async () => {
    // Every URL names the counting loopback origin, so an engine that did fetch would be seen and
    // could never reach an address outside this machine.
    const { port } = new URL(originUrl);
    const urls = [
      originUrl,
      `http://localhost:${port}/latest/meta-data/`,
      `http://[::ffff:127.0.0.1]:${port}/p.png`,
    ];
    for (const url of urls) {
      const created = await createWith({ image_url: url, prompt: 'red' });
      expect(created.status).toBe(400);
      expect(created.body.status).toBe(400);
      expect(created.body.message).toContain('image_url');
      expect(created.body.message).toContain('image_file');
    }
    expect(engine.stats()).toMatchObject({ creates: 0, createAttempts: 3 });
    expect(originRequests).toBe(0);
  });
});

describe('the local engine and its HOST', () => {
  it.each(['0.0.0.0', '::', '192.168.1.20', 'engine.example.test'])(
    'refuses to start on %s without allowNonLoopbackHost',
    async (host) => {
      await expect(startLocalEngine({ host })).rejects.toThrow(
        /not a loopback address.*allowNonLoopbackHost/,
      );
    },
  );

  it('starts on loopback names and addresses', async () => {
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost']) {
      const started = await startLocalEngine({ host });
      expect(started.url.startsWith('http://')).toBe(true);
      await started.close();
    }
  });

  it('passes the check with allowNonLoopbackHost: true (binding an address this machine lacks then fails on its own)', async () => {
    // 192.0.2.1 is a documentation address no interface has: the bind fails, so nothing listens.
    await expect(startLocalEngine({ host: '192.0.2.1', allowNonLoopbackHost: true })).rejects.toMatchObject({
      code: 'EADDRNOTAVAIL',
    });
  });
});
