import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createWatcherProbe, type RedisConnections } from '../src/adapters/redis/connections.js';
import { RedisLeases } from '../src/adapters/redis/leases.js';
import { RedisBudget } from '../src/adapters/redis/redis-budget.js';
import { RedisWaitingQueue } from '../src/adapters/redis/redis-queue.js';
import { BUDGET_MARGIN_MS } from '../src/scheduler/budget.js';
import { startTestRedis, type TestRedis } from './support/redis-db.js';

/** This file's Redis database (its own server, or database 13 of TEST_REDIS_URL), flushed before each test. */
const PREFIX = 'pwg-coord:';
const logger = pino({ level: 'silent' });
/** RedisBudget's spacing at 2 QPS: 1000/qps plus the margin. */
const GAP_MS = Math.ceil(1000 / 2 + BUDGET_MARGIN_MS);
/** How late, at worst, this loaded test process may notice the end of a wait it is measuring. */
const OBSERVED_JITTER_MS = 200;

let server: TestRedis;
let redis: Redis;
beforeAll(async () => {
  server = await startTestRedis(13);
  redis = new Redis(server.url, { lazyConnect: true });
  await redis.connect();
});
beforeEach(async () => {
  await redis.flushdb();
});
afterAll(async () => {
  await redis?.quit();
  await server?.stop();
});

describe('RedisBudget: one budget for several processes', () => {
  it('spaces grants of two budgets sharing Redis at least 1000/qps apart, and never more than qps in flight', async () => {
    const options = { qps: 2, callTimeoutMs: 5_000, logger };
    // The slots Redis reserved, on Redis's clock (each answer carries `slot + gap`): exact, whatever
    // the load on this process, unlike the moments the waits below happen to end.
    const slots: number[] = [];
    const recording = new Proxy(redis, {
      get(target, property, receiver) {
        if (property !== 'eval') return Reflect.get(target, property, receiver);
        return async (...args: Parameters<Redis['eval']>) => {
          const answer = (await target.eval(...args)) as unknown;
          if (Array.isArray(answer) && answer.length === 4 && answer[1] === 1) {
            slots.push((answer[3] as number) - GAP_MS);
          }
          return answer;
        };
      },
    });
    const one = new RedisBudget(recording, PREFIX, options);
    const other = new RedisBudget(recording, PREFIX, options);
    const grants: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    // Each call lasts 50 ms, then settles; 8 calls from two "processes".
    await Promise.all(
      [one, other, one, other, one, other, one, other].map(async (budget) => {
        const slot = await budget.acquire();
        expect(slot).not.toBeNull();
        grants.push(Date.now());
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 50));
        inFlight -= 1;
        slot?.release();
      }),
    );
    // On Redis's clock: 8 slots, each at least 1000/qps (plus margin) after the previous one, so
    // any one-second window holds at most 2.
    expect(slots).toHaveLength(8);
    slots.sort((a, b) => a - b);
    for (let i = 1; i < slots.length; i += 1) {
      expect((slots[i] as number) - (slots[i - 1] as number)).toBeGreaterThanOrEqual(GAP_MS);
    }
    for (let i = 2; i < slots.length; i += 1) {
      expect((slots[i] as number) - (slots[i - 2] as number)).toBeGreaterThanOrEqual(1000);
    }
    // And each process really waits for its slot: the grants it observes are spaced too. Measured
    // here, a grant that ends its wait late (a busy event loop, a slow Redis answer) moves closer
    // to the next one, so this allows for that jitter; without spacing they would be ~0 ms apart.
    grants.sort((a, b) => a - b);
    const gaps = grants.slice(1).map((t, i) => t - (grants[i] as number));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(GAP_MS - OBSERVED_JITTER_MS);
    expect((grants.at(-1) as number) - (grants[0] as number)).toBeGreaterThanOrEqual(
      7 * GAP_MS - OBSERVED_JITTER_MS,
    );
    expect(maxInFlight).toBeLessThanOrEqual(2);
    expect(one.granted + other.granted).toBe(8);
    one.close();
    other.close();
  }, 30_000);

  it('pauses every process after a back-off, and gives up waiting when the signal aborts', async () => {
    const options = { qps: 2, callTimeoutMs: 5_000, logger };
    const one = new RedisBudget(redis, PREFIX, options);
    const other = new RedisBudget(redis, PREFIX, options);
    // Measured from before the back-off is sent (Redis records it later, never earlier), so a slow
    // event loop can only lengthen what is measured, never shorten it.
    const started = Date.now();
    one.backOff(1_500);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const slot = await other.acquire();
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500 - 15);
    slot?.release();
    const controller = new AbortController();
    one.backOff(10_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    setTimeout(() => controller.abort(), 200);
    expect(await other.acquire(controller.signal)).toBeNull();
    one.close();
    other.close();
  }, 30_000);
});

describe('RedisBudget: unused slots', () => {
  it('does not count a slot released unused: the next call may start at once', async () => {
    const budget = new RedisBudget(redis, PREFIX, { qps: 2, callTimeoutMs: 5_000, logger });
    const unused = await budget.acquire();
    unused?.release(false);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const started = Date.now();
    const used = await budget.acquire();
    // Well under the 525 ms spacing it would have waited had the unused slot counted (the slack
    // is for a loaded machine: a Redis round trip, a late timer).
    expect(Date.now() - started).toBeLessThan(GAP_MS - 150);
    used?.release();
    // A used one does count: the next waits for the spacing after it (measured from before the
    // used slot was asked for, so a late timer or a slow answer cannot shorten it).
    (await budget.acquire())?.release();
    expect(Date.now() - started).toBeGreaterThanOrEqual(GAP_MS - 15);
    budget.close();
  });
});

describe('RedisLeases: one owner per task', () => {
  it('gives a task to one claimant, keeps it while renewed, and lets another take it once it lapses', async () => {
    const a = new RedisLeases(redis, PREFIX, {
      instanceId: 'a',
      logger,
      ttlMs: 600,
      renewEveryMs: 150,
      scanEveryMs: 200,
    });
    const b = new RedisLeases(redis, PREFIX, {
      instanceId: 'b',
      logger,
      ttlMs: 600,
      renewEveryMs: 150,
      scanEveryMs: 200,
    });
    const [wonA, wonB] = await Promise.all([a.claim(['t1', 't2']), b.claim(['t2', 't3'])]);
    // Each task has exactly one owner.
    const owners = new Map<string, string[]>();
    for (const id of wonA) owners.set(id, [...(owners.get(id) ?? []), 'a']);
    for (const id of wonB) owners.set(id, [...(owners.get(id) ?? []), 'b']);
    expect([...owners.keys()].sort()).toEqual(['t1', 't2', 't3']);
    for (const holders of owners.values()) expect(holders).toHaveLength(1);
    expect(a.holds('t1')).toBe(true);
    expect(b.holds('t1')).toBe(false);

    // Renewed, a keeps t1 well past one TTL.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(a.holds('t1')).toBe(true);
    expect(await b.claim(['t1'])).toEqual([]);

    // a stops renewing (its process "dies"): b takes t1 after the TTL, and a stops trusting it.
    a.close();
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(a.holds('t1')).toBe(false);
    expect(await b.claim(['t1'])).toEqual(['t1']);
    expect(b.holds('t1')).toBe(true);

    // Released leases are free at once.
    await b.releaseAll();
    expect(b.holds('t1')).toBe(false);
    const c = new RedisLeases(redis, PREFIX, { instanceId: 'c', logger, ttlMs: 600 });
    expect((await c.claim(['t1', 't2', 't3'])).sort()).toEqual(['t1', 't2', 't3']);
    c.close();
    b.close();
  }, 30_000);
});

describe('watcher probe: subscribers on other processes', () => {
  it('tells which tasks some process has subscribed to', async () => {
    const subscriber = new Redis(server.url, { lazyConnect: true });
    await subscriber.connect();
    await subscriber.subscribe(`${PREFIX}task-updated:watched`);
    const probe = createWatcherProbe({ commands: redis, prefix: PREFIX } as RedisConnections);
    expect([...(await probe.watched(['watched', 'alone']))]).toEqual(['watched']);
    expect((await probe.watched([])).size).toBe(0);
    await subscriber.quit();
  });
});

describe('RedisWaitingQueue: positions across processes', () => {
  it('orders waiting tasks by arrival, then id, whichever process added them', async () => {
    const one = new RedisWaitingQueue(redis, PREFIX, logger);
    const other = new RedisWaitingQueue(redis, PREFIX, logger);
    one.add('b', 1_000);
    other.add('a', 1_000);
    one.add('c', 900);
    other.add('d', 2_000);
    expect(await other.position('c')).toBe(1);
    expect(await one.position('a')).toBe(2);
    expect(await one.position('b')).toBe(3);
    expect(await one.position('d')).toBe(4);
    expect(await one.waitingAmong(['a', 'x', 'd'])).toEqual(['a', 'd']);
    other.remove('c');
    expect(await one.position('c')).toBeNull();
    expect(await one.position('a')).toBe(1);
  });
});
