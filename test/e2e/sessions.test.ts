import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_TOKEN_ISSUER } from '../../src/auth/session-tokens.js';
import { GET_BATCH, sendBatch } from '../support/batch-ops.js';
import { transparentPng } from '../support/fixtures.js';
import { eventually, type GraphQLErrorShape, startStack, type TestStack } from '../support/harness.js';
import { startIdentityProvider, type TestIdentityProvider } from '../support/identity-provider.js';
import { bearer, generate, mustGenerate, sseUntil, TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';

/**
 * End-user sessions (#23): a tenant's backend mints short-lived tokens for its users, or the
 * tenant's own identity provider issues JWTs; each session sees only its own user's tasks, may not
 * use the tenant-wide operations, and is refused (401, TOKEN_EXPIRED or TOKEN_INVALID) on every
 * transport when its token is not good.
 */

const SESSION_SECRET = 'session-secret-for-tests-0123456789abcdef';
const MINT = `mutation Mint($subject: String!, $ttl: Int) {
  createSessionToken(input: { subject: $subject, ttlSeconds: $ttl }) { token subject expiresAt }
}`;
const VIEWER = 'query { viewer { name scope subject limits { perMinute maxActive } } }';
const TASK = 'query Task($id: ID!) { backgroundTask(id: $id) { id subject } }';
const STATE = 'query Task($id: ID!) { backgroundTask(id: $id) { state } }';
const NODES = 'query Nodes($ids: [ID!]!) { nodes(ids: $ids) { id } }';
const LIST = `query List($subject: String, $after: String) {
  backgroundTasks(first: 100, subject: $subject, after: $after) { totalCount edges { node { id subject } } }
}`;
const CANCEL = 'mutation Cancel($id: ID!) { cancelBackgroundTask(id: $id) { id state } }';
const DELETE = 'mutation Delete($id: ID!) { deleteBackgroundTask(id: $id) }';
const SUBSCRIBE = 'subscription Follow($id: ID!) { backgroundTaskUpdated(id: $id) { id state } }';
const FOLLOW_BATCH = 'subscription Batch($id: ID!) { backgroundBatchUpdated(id: $id) { id done } }';

let stack: TestStack;
let idp: TestIdentityProvider;
let dir: string;

async function mint(subject: string, key: string = TENANTS.alpha, ttl?: number): Promise<string> {
  const answer = await stack.gql<{ createSessionToken: { token: string } }>(
    MINT,
    { subject, ttl: ttl ?? null },
    bearer(key),
  );
  const token = answer.body.data?.createSessionToken.token;
  if (!token) throw new Error(JSON.stringify(answer.body));
  return token;
}

async function read(token: string, id: string): Promise<{ id: string; subject: string | null } | null> {
  const answer = await stack.gql<{ backgroundTask: { id: string; subject: string | null } | null }>(
    TASK,
    { id },
    bearer(token),
  );
  expect(answer.body.errors).toBeUndefined();
  return answer.body.data?.backgroundTask ?? null;
}

function codeOf(errors: GraphQLErrorShape[] | undefined): string | undefined {
  return errors?.[0]?.extensions?.code;
}

beforeAll(async () => {
  idp = await startIdentityProvider();
  dir = mkdtempSync(join(tmpdir(), 'gw-sessions-'));
  stack = await startStack({
    engine: { durationMs: 300 },
    env: {
      GATEWAY_API_KEYS: TWO_TENANT_KEYS,
      SESSION_TOKEN_SECRET: SESSION_SECRET,
      JWT_ISSUERS_FILE: idp.issuersFile(dir, 'beta'),
      SUBJECT_RATE_LIMIT_PER_MINUTE: '100',
      SUBJECT_MAX_ACTIVE_TASKS: '100',
    },
  });
});

afterAll(async () => {
  await stack?.close();
  await idp?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('session tokens minted by the tenant’s backend', () => {
  it('speak for one end user of the tenant, and say so in viewer', async () => {
    const answer = await stack.gql<{
      createSessionToken: { token: string; subject: string; expiresAt: string };
    }>(MINT, { subject: 'alice', ttl: 120 }, bearer(TENANTS.alpha));
    const minted = answer.body.data?.createSessionToken;
    expect(minted?.subject).toBe('alice');
    const lifetime = Date.parse(minted?.expiresAt ?? '') - Date.now();
    expect(lifetime).toBeGreaterThan(100_000);
    expect(lifetime).toBeLessThanOrEqual(121_000);
    const viewer = await stack.gql(VIEWER, {}, bearer(minted?.token ?? ''));
    expect(viewer.body.data?.viewer).toEqual({
      name: 'alpha',
      scope: 'SESSION',
      subject: 'alice',
      limits: { perMinute: 100, maxActive: 100 },
    });
    const server = await stack.gql(VIEWER, {}, bearer(TENANTS.alpha));
    expect(server.body.data?.viewer).toMatchObject({ name: 'alpha', scope: 'SERVER', subject: null });
  });

  it('refuses a bad subject or lifetime with BAD_USER_INPUT naming each field', async () => {
    const answer = await stack.gql(MINT, { subject: 'bad\u0001subject', ttl: 10 }, bearer(TENANTS.alpha));
    expect(codeOf(answer.body.errors)).toBe('BAD_USER_INPUT');
    const problems = answer.body.errors?.[0]?.extensions?.problems as { reason: string; field: string }[];
    expect(problems.map((p) => [p.reason, p.field])).toEqual([
      ['INVALID_SUBJECT', 'input.subject'],
      ['INVALID_TTL', 'input.ttlSeconds'],
    ]);
    const tooLong = await stack.gql(MINT, { subject: 'x'.repeat(129), ttl: 86_401 }, bearer(TENANTS.alpha));
    expect(codeOf(tooLong.body.errors)).toBe('BAD_USER_INPUT');
  });
});

describe('ownership by subject', () => {
  let alice: string;
  let bob: string;
  let carol: string;
  let aliceTask: string;
  let bobTask: string;
  let serverTask: string;

  beforeAll(async () => {
    alice = await mint('alice');
    bob = await mint('bob');
    carol = await idp.sign({ sub: 'carol' });
    aliceTask = await mustGenerate(stack, alice);
    bobTask = await mustGenerate(stack, bob);
    serverTask = await mustGenerate(stack, TENANTS.alpha);
  });

  it('records the subject on the task, null for a server key', async () => {
    expect(await read(alice, aliceTask)).toEqual({ id: aliceTask, subject: 'alice' });
    expect(await read(TENANTS.alpha, bobTask)).toEqual({ id: bobTask, subject: 'bob' });
    expect(await read(TENANTS.alpha, serverTask)).toEqual({ id: serverTask, subject: null });
  });

  it('reads another subject’s task, and the server’s, as null — like another tenant’s', async () => {
    expect(await read(alice, bobTask)).toBeNull();
    expect(await read(alice, serverTask)).toBeNull();
    expect(await read(bob, aliceTask)).toBeNull();
    // An identity provider's user of another tenant sees neither.
    expect(await read(carol, aliceTask)).toBeNull();
    const nodes = await stack.gql<{ nodes: ({ id: string } | null)[] }>(
      NODES,
      { ids: [aliceTask, bobTask, serverTask] },
      bearer(alice),
    );
    expect(nodes.body.data?.nodes).toEqual([{ id: aliceTask }, null, null]);
  });

  it('lists only the session’s own tasks; a server key sees all and may filter by subject', async () => {
    const mine = await stack.gql<{
      backgroundTasks: { totalCount: number; edges: { node: { id: string } }[] };
    }>(LIST, {}, bearer(alice));
    const ids = mine.body.data?.backgroundTasks.edges.map((edge) => edge.node.id) ?? [];
    expect(ids).toContain(aliceTask);
    expect(ids).not.toContain(bobTask);
    expect(ids).not.toContain(serverTask);
    expect(mine.body.data?.backgroundTasks.totalCount).toBe(ids.length);
    // A session cannot widen its view by naming another subject.
    const widened = await stack.gql<{ backgroundTasks: { edges: { node: { id: string } }[] } }>(
      LIST,
      { subject: 'bob' },
      bearer(alice),
    );
    expect(widened.body.data?.backgroundTasks.edges.map((edge) => edge.node.id)).not.toContain(bobTask);

    const all = await stack.gql<{ backgroundTasks: { edges: { node: { id: string } }[] } }>(
      LIST,
      {},
      bearer(TENANTS.alpha),
    );
    const allIds = all.body.data?.backgroundTasks.edges.map((edge) => edge.node.id) ?? [];
    expect(allIds).toEqual(expect.arrayContaining([aliceTask, bobTask, serverTask]));
    const bobs = await stack.gql<{ backgroundTasks: { edges: { node: { id: string; subject: string } }[] } }>(
      LIST,
      { subject: 'bob' },
      bearer(TENANTS.alpha),
    );
    expect(bobs.body.data?.backgroundTasks.edges.map((edge) => edge.node.subject)).toEqual(['bob']);
  });

  it('refuses another subject’s task as a cursor', async () => {
    const answer = await stack.gql(LIST, { after: bobTask }, bearer(alice));
    expect(answer.body.errors?.[0]?.extensions?.reason).toBe('INVALID_CURSOR');
  });

  it('cannot cancel or delete another subject’s task', async () => {
    const cancel = await stack.gql<{ cancelBackgroundTask: unknown }>(CANCEL, { id: bobTask }, bearer(alice));
    expect(cancel.body.data?.cancelBackgroundTask ?? null).toBeNull();
    const remove = await stack.gql<{ deleteBackgroundTask: boolean }>(DELETE, { id: bobTask }, bearer(alice));
    expect(remove.body.data?.deleteBackgroundTask).toBe(false);
    expect(await read(bob, bobTask)).toEqual({ id: bobTask, subject: 'bob' });
  });

  it('answers a subscription to another subject’s task with NOT_FOUND on both SSE paths', async () => {
    const body = JSON.stringify({ query: SUBSCRIBE, variables: { id: bobTask } });
    for (const path of ['/graphql', '/graphql/stream']) {
      const theirs = await sseUntil(`${stack.url}${path}`, { headers: bearer(alice), body }, (events) =>
        events.some((e) => e.event === 'complete'),
      );
      const next = theirs.events.find((e) => e.event === 'next')?.data as { errors?: GraphQLErrorShape[] };
      expect(codeOf(next.errors)).toBe('NOT_FOUND');
      const mine = await sseUntil(`${stack.url}${path}`, { headers: bearer(bob), body }, (events) =>
        events.some((e) => e.event === 'next'),
      );
      const snapshot = mine.events.find((e) => e.event === 'next')?.data as {
        data?: { backgroundTaskUpdated: { id: string } };
      };
      expect(snapshot.data?.backgroundTaskUpdated.id).toBe(bobTask);
    }
  });

  it('never answers a finished task from another subject’s cached read', async () => {
    await eventually(async () => {
      const task = await stack.gql<{ backgroundTask: { state: string } }>(
        STATE,
        { id: bobTask },
        bearer(bob),
      );
      return task.body.data?.backgroundTask.state === 'SUCCEEDED' ? true : undefined;
    }, 30_000);
    // Read twice as bob (the second from the cache), then the same bytes as alice.
    expect(await read(bob, bobTask)).not.toBeNull();
    expect(await read(bob, bobTask)).not.toBeNull();
    expect(await read(alice, bobTask)).toBeNull();
  });

  it('keeps idempotency keys per subject: the same key makes each end user their own task', async () => {
    const first = await generate(stack, alice, 'order-1');
    const again = await generate(stack, alice, 'order-1');
    const other = await generate(stack, bob, 'order-1');
    expect(first.id).not.toBeNull();
    expect(again.id).toBe(first.id);
    expect(other.id).not.toBeNull();
    expect(other.id).not.toBe(first.id);
    expect(await read(bob, other.id as string)).toMatchObject({ subject: 'bob' });
  });

  it('keeps batches to their subject, for reads and for the batch subscription', async () => {
    const png = await transparentPng(400, 300);
    const sent = await sendBatch(stack, [{ file: png }, { file: png }], { tenant: alice });
    const batch = (sent as { data?: { generateBackgrounds: { batch: { id: string } } } }).data
      ?.generateBackgrounds.batch;
    expect(batch?.id).toBeTruthy();
    const id = batch?.id as string;
    const mine = await stack.gql<{ batch: { id: string } | null }>(GET_BATCH, { id }, bearer(alice));
    expect(mine.body.data?.batch?.id).toBe(id);
    const theirs = await stack.gql<{ batch: unknown }>(GET_BATCH, { id }, bearer(bob));
    expect(theirs.body.data?.batch ?? null).toBeNull();
    const server = await stack.gql<{ batch: { id: string } | null }>(
      GET_BATCH,
      { id },
      bearer(TENANTS.alpha),
    );
    expect(server.body.data?.batch?.id).toBe(id);
    const followed = await sseUntil(
      `${stack.url}/graphql`,
      { headers: bearer(bob), body: JSON.stringify({ query: FOLLOW_BATCH, variables: { id } }) },
      (events) => events.some((e) => e.event === 'complete'),
    );
    const next = followed.events.find((e) => e.event === 'next')?.data as { errors?: GraphQLErrorShape[] };
    expect(codeOf(next.errors)).toBe('NOT_FOUND');
  });
});

describe('server-only operations', () => {
  it('refuses them to both kinds of session with FORBIDDEN, creating and spending nothing', async () => {
    const sessions = [await mint('dave'), await idp.sign({ sub: 'erin' })];
    for (const token of sessions) {
      const secret = await stack.gql('query { viewer { webhookSecret { secret } } }', {}, bearer(token));
      expect(codeOf(secret.body.errors)).toBe('FORBIDDEN');
      expect(secret.body.errors?.[0]?.message).toMatch(/server key/);
      const rotate = await stack.gql('mutation { rotateWebhookSecret { secret } }', {}, bearer(token));
      expect(codeOf(rotate.body.errors)).toBe('FORBIDDEN');
      const minted = await stack.gql(MINT, { subject: 'mallory' }, bearer(token));
      expect(codeOf(minted.body.errors)).toBe('FORBIDDEN');
      expect(minted.body.data ?? null).toBeNull();
      const before = await stack.gql<{ backgroundTasks: { totalCount: number } }>(LIST, {}, bearer(token));
      const withWebhook = await stack.gql(
        `mutation { generateBackground(input: { image: { url: "https://example.invalid/p.png" },
           background: { prompt: "x" }, webhookUrl: "https://example.invalid/hook" }) { id } }`,
        {},
        bearer(token),
      );
      expect(codeOf(withWebhook.body.errors)).toBe('FORBIDDEN');
      const after = await stack.gql<{ backgroundTasks: { totalCount: number } }>(LIST, {}, bearer(token));
      expect(after.body.data?.backgroundTasks.totalCount).toBe(before.body.data?.backgroundTasks.totalCount);
    }
  });
});

describe('refused tokens', () => {
  const secret = new TextEncoder().encode(SESSION_SECRET);
  const own = (claims: Record<string, unknown>, expires: string | number = '5m') =>
    new SignJWT({ tnt: 'alpha', ...claims })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(SESSION_TOKEN_ISSUER)
      .setAudience(SESSION_TOKEN_ISSUER)
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime(expires);

  async function badTokens(): Promise<Record<string, [string, 'TOKEN_EXPIRED' | 'TOKEN_INVALID']>> {
    const good = await mint('alice');
    const [head, payload, signature] = good.split('.');
    const flipped = `${signature?.slice(0, -2)}${signature?.endsWith('AA') ? 'BB' : 'AA'}`;
    return {
      malformed: ['not.a.jwt', 'TOKEN_INVALID'],
      'forged signature': [`${head}.${payload}.${flipped}`, 'TOKEN_INVALID'],
      'signed with another secret': [
        await own({}).sign(new TextEncoder().encode('another-secret-0123456789abcdefghijkl')),
        'TOKEN_INVALID',
      ],
      'expired session token': [
        await own({}, Math.floor(Date.now() / 1000) - 60).sign(secret),
        'TOKEN_EXPIRED',
      ],
      'tenant no longer configured': [await own({ tnt: 'gamma' }).sign(secret), 'TOKEN_INVALID'],
      'session token without subject': [
        await new SignJWT({ tnt: 'alpha' })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer(SESSION_TOKEN_ISSUER)
          .setAudience(SESSION_TOKEN_ISSUER)
          .setExpirationTime('5m')
          .sign(secret),
        'TOKEN_INVALID',
      ],
      'alg none': [
        new UnsecuredJWT({ tnt: 'alpha', sub: 'alice' })
          .setIssuer(SESSION_TOKEN_ISSUER)
          .setAudience(SESSION_TOKEN_ISSUER)
          .setExpirationTime('5m')
          .encode(),
        'TOKEN_INVALID',
      ],
      'expired provider token': [
        await idp.sign({ sub: 'erin' }, { expiresIn: Math.floor(Date.now() / 1000) - 60 }),
        'TOKEN_EXPIRED',
      ],
      'wrong issuer': [await idp.sign({ iss: 'https://elsewhere.invalid/' }), 'TOKEN_INVALID'],
      'wrong audience': [await idp.sign({ aud: 'someone-else' }), 'TOKEN_INVALID'],
      'unknown kid': [await idp.signWithUnknownKey({ sub: 'erin' }), 'TOKEN_INVALID'],
      'provider token without subject': [await idp.sign({ sub: undefined }), 'TOKEN_INVALID'],
      'not yet valid': [await idp.sign({ nbf: Math.floor(Date.now() / 1000) + 3600 }), 'TOKEN_INVALID'],
      // HS256 over the provider's issuer, "signed" with its public JWKS: the algorithm-confusion attempt.
      'HS-signed as the provider': [
        await new SignJWT({ sub: 'erin' })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer(idp.issuer)
          .setAudience(idp.audience)
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode(JSON.stringify(await (await fetch(idp.jwksUrl)).json()))),
        'TOKEN_INVALID',
      ],
      'wrong server key': ['not-a-configured-key-0123456789', 'TOKEN_INVALID'],
    };
  }

  it('answers each bad token with 401 UNAUTHENTICATED and its reason on JSON, spending nothing', async () => {
    const tokens = await badTokens();
    expect(Object.keys(tokens).length).toBeGreaterThanOrEqual(10);
    for (const [name, [token, reason]] of Object.entries(tokens)) {
      const answer = await stack.gql(VIEWER, {}, bearer(token));
      expect([name, answer.status]).toEqual([name, 401]);
      expect([name, answer.body.errors?.[0]?.extensions]).toEqual([
        name,
        expect.objectContaining({ code: 'UNAUTHENTICATED', reason }),
      ]);
      // Nothing in the answer repeats the token.
      expect(JSON.stringify(answer.body)).not.toContain(token);
      const upload = await generate(stack, token);
      expect([name, upload.status, codeOf(upload.errors)]).toEqual([name, 401, 'UNAUTHENTICATED']);
    }
    const missing = await stack.gql(VIEWER, {});
    expect(missing.status).toBe(401);
    expect(missing.body.errors?.[0]?.extensions?.reason).toBe('TOKEN_INVALID');
  });

  it('refuses them on every stream transport too', async () => {
    const tokens = await badTokens();
    const body = JSON.stringify({ query: SUBSCRIBE, variables: { id: 'any' } });
    for (const [name, [token, reason]] of Object.entries(tokens)) {
      for (const path of ['/graphql', '/graphql/stream']) {
        const response = await fetch(`${stack.url}${path}`, {
          method: 'POST',
          headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...bearer(token) },
          body,
        });
        const answer = (await response.json()) as { errors?: GraphQLErrorShape[] };
        expect([name, path, response.status, answer.errors?.[0]?.extensions?.reason]).toEqual([
          name,
          path,
          401,
          reason,
        ]);
      }
      const reservation = await fetch(`${stack.url}/graphql/stream`, {
        method: 'PUT',
        headers: bearer(token),
      });
      expect([name, reservation.status]).toEqual([name, 401]);
      await reservation.text();
    }
  });

  it('fetches the provider’s keys once, and again for an unknown kid at most every few seconds', async () => {
    const before = idp.requests;
    for (let i = 0; i < 3; i += 1) {
      expect((await stack.gql(VIEWER, {}, bearer(await idp.sign({ sub: `u${i}` })))).status).toBe(200);
    }
    for (let i = 0; i < 5; i += 1) {
      expect((await stack.gql(VIEWER, {}, bearer(await idp.signWithUnknownKey()))).status).toBe(401);
    }
    // At most one refetch for the burst of unknown kids (plus the first fetch if none happened yet).
    expect(idp.requests - before).toBeLessThanOrEqual(2);
  });
});

describe('per-subject limits', () => {
  let limited: TestStack;

  beforeAll(async () => {
    limited = await startStack({
      engine: { durationMs: 60_000 },
      env: {
        GATEWAY_API_KEYS: TWO_TENANT_KEYS,
        SESSION_TOKEN_SECRET: SESSION_SECRET,
        SUBJECT_MAX_ACTIVE_TASKS: '2',
        SUBJECT_RATE_LIMIT_PER_MINUTE: '3',
      },
    });
  });
  afterAll(() => limited?.close());

  it('holds SUBJECT_MAX_ACTIVE_TASKS under a burst of parallel creates, for that subject only', async () => {
    const token = async (subject: string) => {
      const answer = await limited.gql<{ createSessionToken: { token: string } }>(
        MINT,
        { subject },
        bearer(TENANTS.alpha),
      );
      return answer.body.data?.createSessionToken.token as string;
    };
    const frank = await token('frank');
    const burst = await Promise.all(Array.from({ length: 6 }, () => generate(limited, frank)));
    expect(burst.filter((each) => each.id !== null)).toHaveLength(2);
    const refused = burst.filter((each) => each.id === null);
    expect(refused).toHaveLength(4);
    for (const each of refused) {
      expect(codeOf(each.errors)).toBe('RATE_LIMITED');
      expect(each.errors[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
    }
    const viewer = await limited.gql<{ viewer: { limits: { maxActive: number } } }>(
      'query { viewer { limits { maxActive active } } }',
      {},
      bearer(frank),
    );
    expect(viewer.body.data?.viewer.limits).toEqual({ maxActive: 2, active: 2 });
    // Another end user of the tenant, and the server key, are not held back by frank's limit.
    expect((await generate(limited, await token('grace'))).id).not.toBeNull();
    expect((await generate(limited, TENANTS.alpha)).id).not.toBeNull();
  });
});
