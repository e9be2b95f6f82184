import { Webhook } from 'standardwebhooks';
import { beforeAll, describe, expect } from 'vitest';
import type { Resolver } from '../../src/outbound/index.js';
import { eventually, type TestStack } from '../support/harness.js';
import {
  startCountingServer,
  stopCountingServer,
  streamLargeBody,
  stubResolver,
} from '../support/loopback-transport.js';
import { stackTest } from '../support/stack-test.js';
import { type ReceivedWebhook, startWebhookReceiver, webhookHeaders } from '../support/webhook-receiver.js';
import {
  type DocumentedVerifier,
  deliveriesOf,
  documentedVerifiers,
  generateHooked,
  ROTATE,
  SECRET,
  settledDelivery,
} from '../support/webhooks.js';

/**
 * Issue #15, item 1: signed webhooks with retries, end to end. The receivers are real HTTP servers
 * on loopback ports; the harness's transport dials loopback only and resolves names from a table,
 * so no test here can reach another network, even with the address guard broken.
 */

async function secretOf(stack: TestStack): Promise<{ secret: string; previousValidUntil: string | null }> {
  const answer = await stack.gql<{
    viewer: { webhookSecret: { secret: string; previousValidUntil: string | null } };
  }>(SECRET);
  if (!answer.body.data) throw new Error(JSON.stringify(answer.body));
  return answer.body.data.viewer.webhookSecret;
}

function bodyOf(request: ReceivedWebhook): {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
} {
  return JSON.parse(request.body);
}

async function attemptsCounted(stack: TestStack, outcome: string): Promise<number> {
  const metric = await stack.gateway.metrics.webhookAttempts.get();
  return metric.values.find((value) => value.labels.outcome === outcome)?.value ?? 0;
}

/** What `hooks.example` resolves to; tests change it to play a DNS change. */
const names: Record<string, string[]> = { 'hooks.example': ['127.0.0.1'] };
const resolver: Resolver = (hostname) => stubResolver(names)(hostname);
const itLoopback = stackTest({
  engine: { durationMs: 300 },
  env: { WEBHOOK_URL_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_BASE_MS: '50', WEBHOOK_TIMEOUT_MS: '2000' },
  resolve: resolver,
});

describe('webhooks to a receiver on loopback (WEBHOOK_URL_ALLOW_PRIVATE=true)', () => {
  let verifiers: Record<string, DocumentedVerifier>;

  beforeAll(async () => {
    verifiers = await documentedVerifiers();
  });

  itLoopback(
    'delivers one signed request per subscribed event, verified by standardwebhooks and by the documented code',
    async ({ stack }) => {
      const receiver = await startWebhookReceiver();
      try {
        const { secret } = await secretOf(stack);
        expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
        const { id, errors } = await generateHooked(stack.url, `${receiver.url}/hook`, [
          'QUEUED',
          'PROCESSING',
          'SUCCEEDED',
        ]);
        expect(errors).toEqual([]);
        await eventually(async () => (receiver.received.length >= 3 ? true : undefined));
        const byEvent = new Map(receiver.received.map((request) => [bodyOf(request).data.state, request]));
        expect([...byEvent.keys()].sort()).toEqual(['PROCESSING', 'QUEUED', 'SUCCEEDED']);
        expect(new Set(receiver.received.map((request) => request.headers['webhook-id'])).size).toBe(3);
        expect(Object.keys(verifiers).sort()).toEqual(['verify-crypto.mjs', 'verify-standardwebhooks.mjs']);
        for (const [state, request] of byEvent) {
          const headers = webhookHeaders(request);
          expect(headers['webhook-id']).toMatch(/^msg_/);
          expect(request.headers['content-type']).toBe('application/json');
          const event = new Webhook(secret).verify(request.body, headers) as ReturnType<typeof bodyOf>;
          expect(event.type).toBe(`background_task.${String(state).toLowerCase()}`);
          expect(event.data.id).toBe(id);
          for (const verify of Object.values(verifiers))
            expect(verify(secret, request.body, headers)).toEqual(event);
          // A body changed by one byte does not verify.
          expect(() => new Webhook(secret).verify(`${request.body} `, headers)).toThrow();
          for (const verify of Object.values(verifiers))
            expect(() => verify(secret, `${request.body} `, headers)).toThrow();
        }
        // The body is the task as BackgroundTask shows it: the final one carries its stored images.
        const final = bodyOf(byEvent.get('SUCCEEDED') as ReceivedWebhook).data as {
          images: { url: string; width: number }[];
          creditsCharged: number;
          webhookDeliveries?: unknown;
        };
        expect(final.images).toHaveLength(1);
        expect(final.images[0]?.url).toContain('/files/');
        expect(final.creditsCharged).toBe(3);
        expect(final).not.toHaveProperty('webhookDeliveries');
        const deliveries = await eventually(async () => {
          const all = await deliveriesOf(stack, id as string);
          return all.length === 3 && all.every((d) => d.status === 'DELIVERED') ? all : undefined;
        });
        expect(deliveries.map((d) => d.attempts.map((a) => a.statusCode))).toEqual([[200], [200], [200]]);
      } finally {
        await receiver.close();
      }
    },
  );

  itLoopback(
    'retries a receiver answering 500 three times and delivers on the fourth try with one webhook-id',
    async ({ stack }) => {
      const receiver = await startWebhookReceiver((index) => (index < 3 ? 500 : 200));
      try {
        const retriesBefore = await attemptsCounted(stack, 'retry');
        const { id } = await generateHooked(stack.url, `${receiver.url}/flaky`);
        const delivery = await settledDelivery(stack, id as string);
        expect(delivery).toMatchObject({
          event: 'SUCCEEDED',
          status: 'DELIVERED',
          attemptCount: 4,
          nextAttemptAt: null,
        });
        expect(delivery.attempts.map((a) => a.statusCode)).toEqual([500, 500, 500, 200]);
        expect(delivery.attempts.map((a) => a.error)).toEqual(['HTTP 500', 'HTTP 500', 'HTTP 500', null]);
        expect(receiver.received).toHaveLength(4);
        expect(new Set(receiver.received.map((r) => r.headers['webhook-id']))).toEqual(
          new Set([delivery.id]),
        );
        // Every try is signed afresh (its own timestamp) and verifies.
        const { secret } = await secretOf(stack);
        for (const request of receiver.received)
          new Webhook(secret).verify(request.body, webhookHeaders(request));
        expect((await attemptsCounted(stack, 'retry')) - retriesBefore).toBe(3);
      } finally {
        await receiver.close();
      }
    },
  );

  itLoopback('gives up at once on 410 Gone', async ({ stack }) => {
    const receiver = await startWebhookReceiver(() => 410);
    try {
      const { id } = await generateHooked(stack.url, `${receiver.url}/gone`);
      const delivery = await settledDelivery(stack, id as string);
      expect(delivery).toMatchObject({
        status: 'GAVE_UP',
        attemptCount: 1,
        lastStatusCode: 410,
        nextAttemptAt: null,
      });
      expect(receiver.received).toHaveLength(1);
    } finally {
      await receiver.close();
    }
  });

  itLoopback('signs with the old and the new secret after a rotation, space-separated', async ({ stack }) => {
    const receiver = await startWebhookReceiver();
    try {
      const before = await secretOf(stack);
      const rotated = await stack.gql<{
        rotateWebhookSecret: { secret: string; previousValidUntil: string };
      }>(ROTATE);
      const after = rotated.body.data?.rotateWebhookSecret;
      expect(after?.secret).toMatch(/^whsec_/);
      expect(after?.secret).not.toBe(before.secret);
      expect(Date.parse(after?.previousValidUntil ?? '')).toBeGreaterThan(Date.now());
      expect((await secretOf(stack)).secret).toBe(after?.secret);
      const { id } = await generateHooked(stack.url, `${receiver.url}/rotating`);
      await settledDelivery(stack, id as string);
      const [request] = receiver.received as [ReceivedWebhook];
      const headers = webhookHeaders(request);
      expect(headers['webhook-signature']?.split(' ')).toHaveLength(2);
      for (const secret of [before.secret, after?.secret as string]) {
        new Webhook(secret).verify(request.body, headers);
        for (const verify of Object.values(verifiers)) verify(secret, request.body, headers);
      }
    } finally {
      await receiver.close();
    }
  });

  itLoopback(
    'checks the address again at each try: a name that now resolves to the metadata address is not called',
    async ({ stack }) => {
      const receiver = await startWebhookReceiver();
      try {
        names['hooks.example'] = ['127.0.0.1'];
        const { id, errors } = await generateHooked(stack.url, `http://hooks.example:${receiver.port}/moved`);
        expect(errors).toEqual([]);
        names['hooks.example'] = ['169.254.169.254'];
        const refused = await eventually(async () => {
          const [delivery] = await deliveriesOf(stack, id as string);
          return delivery && delivery.attemptCount > 0 ? delivery : undefined;
        });
        expect(refused.status).toBe('PENDING');
        expect(refused.attempts[0]).toMatchObject({ statusCode: null });
        expect(refused.attempts[0]?.error).toMatch(/^URL_NOT_ALLOWED/);
        expect(receiver.received).toHaveLength(0);
        names['hooks.example'] = ['127.0.0.1'];
        const delivered = await settledDelivery(stack, id as string);
        expect(delivered.status).toBe('DELIVERED');
        expect(receiver.received).toHaveLength(1);
      } finally {
        names['hooks.example'] = ['127.0.0.1'];
        await receiver.close();
      }
    },
  );

  itLoopback(
    'does not follow a redirect, reads at most 64 KB of an answer, and times out a receiver that hangs (and tries again)',
    async ({ stack }) => {
      const server = await startCountingServer((req, res) => {
        req.resume();
        if (req.url === '/moved') return void res.writeHead(307, { location: '/elsewhere' }).end();
        if (req.url === '/huge') return streamLargeBody(res, Buffer.from('ok'), 50);
        if (req.url === '/hang') return;
        res.writeHead(200).end();
      });
      try {
        const moved = await generateHooked(stack.url, `${server.url}/moved`);
        const huge = await generateHooked(stack.url, `${server.url}/huge`);
        const hang = await generateHooked(stack.url, `${server.url}/hang`);
        const tried = (id: string | null) =>
          eventually(async () => {
            const [delivery] = await deliveriesOf(stack, id as string);
            return delivery && delivery.attemptCount > 0 ? delivery : undefined;
          });
        expect((await tried(moved.id)).attempts[0]).toMatchObject({ statusCode: 307, error: 'HTTP 307' });
        expect(await tried(huge.id)).toMatchObject({ status: 'DELIVERED', lastStatusCode: 200 });
        const timedOut = await tried(hang.id);
        expect(timedOut.status).toBe('PENDING');
        expect(timedOut.attempts[0]?.error).toMatch(/^URL_TIMEOUT/);
      } finally {
        await stopCountingServer(server);
      }
    },
  );

  itLoopback('refuses webhookEvents without a webhookUrl, and an empty event list', async ({ stack }) => {
    const without = await generateHooked(stack.url, null, ['SUCCEEDED']);
    expect(without.errors[0]?.extensions).toMatchObject({
      reason: 'WEBHOOK_URL_REQUIRED',
      field: 'input.webhookEvents',
    });
    const empty = await generateHooked(stack.url, 'http://127.0.0.1:9/none', []);
    expect(empty.errors[0]?.extensions).toMatchObject({
      reason: 'WEBHOOK_EVENTS_EMPTY',
      field: 'input.webhookEvents',
    });
    const ftp = await generateHooked(stack.url, 'ftp://127.0.0.1/none');
    expect(ftp.errors[0]?.extensions).toMatchObject({ reason: 'INVALID_URL', field: 'input.webhookUrl' });
  });
});
