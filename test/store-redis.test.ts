import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisTaskStore } from '../src/adapters/redis/redis-store.js';
import { IdempotencyConflictError } from '../src/core/store.js';
import { describeTaskStoreContract, sampleTask } from './store-contract.js';
import { startTestRedis, type TestRedis } from './support/redis-db.js';

/** This file's Redis database (its own server, or database 11 of TEST_REDIS_URL), flushed before each test. */
const PREFIX = 'pwg-test:';

let server: TestRedis;
let redis: Redis;
beforeAll(async () => {
  server = await startTestRedis(11);
  redis = new Redis(server.url, { lazyConnect: true });
  await redis.connect();
});
afterAll(async () => {
  await redis?.quit();
  await server?.stop();
});

describeTaskStoreContract('Redis', async () => {
  await redis.flushdb();
  return {
    store: new RedisTaskStore(redis, PREFIX),
    async dispose() {},
  };
});

describe('RedisTaskStore across processes', () => {
  it('refuses a second task for an idempotency key still in its window (two instances racing)', async () => {
    await redis.flushdb();
    const one = new RedisTaskStore(redis, PREFIX);
    const other = new RedisTaskStore(redis, PREFIX);
    const first = sampleTask({ idempotencyKey: 'order-7' });
    const racer = sampleTask({ idempotencyKey: 'order-7', createdAt: first.createdAt + 10 });
    const results = await Promise.allSettled([one.insert(first), other.insert(racer)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    const refused = (results[1] as PromiseRejectedResult).reason;
    expect(refused).toBeInstanceOf(IdempotencyConflictError);
    expect((refused as IdempotencyConflictError).existingId).toBe(first.id);
    expect(await other.get(racer.id)).toBeNull();
    // Another tenant's identical key is unrelated; a deleted task frees its key.
    await other.insert(sampleTask({ idempotencyKey: 'order-7', tenantId: 'other' }));
    await one.delete(first.id);
    await other.insert(racer);
    expect((await one.findByIdempotencyKey('acme', 'order-7', 0))?.id).toBe(racer.id);
  });
});
