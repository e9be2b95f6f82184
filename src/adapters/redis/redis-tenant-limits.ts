import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { GatewayError } from '../../core/errors.js';
import type { TaskStore } from '../../core/store.js';
import {
  checkActiveTasks,
  perMinuteRefusal,
  type TenantLimiter,
  type TenantStanding,
  tenantStanding,
} from '../../core/tenant-limits.js';
import type { Result } from '../../shared/result.js';

/**
 * How many tasks the tenant created in the last minute, on Redis's clock, after dropping older
 * entries; with the oldest entry's age in ms, for `retryAfterSeconds`.
 */
const COUNT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 60000)
local n = redis.call('ZCARD', KEYS[1])
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local age = 0
if first[2] then age = now - tonumber(first[2]) end
return {n, age}
`;

/** Counts one created task in the tenant's window. */
const RECORD = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], 61000)
return 1
`;

/**
 * The per-tenant limits for a cluster (`REDIS_URL`): the per-minute window lives in Redis, so a
 * tenant gets TENANT_RATE_LIMIT_PER_MINUTE across all gateway processes together rather than per
 * process, and unfinished tasks are counted in the shared store. TaskService serialises creations
 * per tenant within a process; two processes admitting the same tenant's task in the same instant
 * can still both pass, so across processes a limit may be overshot by one task per process at most.
 */
export class RedisTenantLimiter implements TenantLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly store: TaskStore,
    private readonly perMinute: number,
    private readonly maxActive: number,
  ) {}

  #key(tenantId: string): string {
    return `${this.prefix}tenant-rate:${tenantId}`;
  }

  async admit(tenantId: string): Promise<Result<void, GatewayError>> {
    const [count, ageMs] = (await this.redis.eval(COUNT, 1, this.#key(tenantId))) as [number, number];
    if (count >= this.perMinute) return perMinuteRefusal(this.perMinute, ageMs);
    return checkActiveTasks(this.store, tenantId, this.maxActive);
  }

  async standing(tenantId: string): Promise<TenantStanding> {
    const [recent, oldestAgeMs] = (await this.redis.eval(COUNT, 1, this.#key(tenantId))) as [number, number];
    const active = await this.store.countActive(tenantId);
    return tenantStanding(
      { perMinute: this.perMinute, maxActive: this.maxActive },
      { recent, oldestAgeMs, active },
    );
  }

  record(tenantId: string): void {
    // The task exists already; a lost count only makes the window a little more lenient.
    this.redis.eval(RECORD, 1, this.#key(tenantId), randomUUID()).catch(() => undefined);
  }
}
