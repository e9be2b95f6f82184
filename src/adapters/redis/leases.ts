import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { TaskOwnership } from '../../scheduler/ownership.js';

/** Takes each free lease (`SET NX PX`) and keeps each of ours; answers the ids now ours. */
const CLAIM = `
local p, me, ttl = ARGV[1], ARGV[2], ARGV[3]
local held = {}
for i = 4, #ARGV do
  local key = p .. 'lease:' .. ARGV[i]
  if redis.call('SET', key, me, 'PX', ttl, 'NX') then
    held[#held + 1] = ARGV[i]
  elseif redis.call('GET', key) == me then
    redis.call('PEXPIRE', key, ttl)
    held[#held + 1] = ARGV[i]
  end
end
return held
`;

/** Extends the leases still ours; answers their ids (the others were lost). */
const RENEW = `
local p, me, ttl = ARGV[1], ARGV[2], ARGV[3]
local kept = {}
for i = 4, #ARGV do
  local key = p .. 'lease:' .. ARGV[i]
  if redis.call('GET', key) == me then
    redis.call('PEXPIRE', key, ttl)
    kept[#kept + 1] = ARGV[i]
  end
end
return kept
`;

/** Deletes the leases still ours. */
const RELEASE = `
local p, me = ARGV[1], ARGV[2]
for i = 3, #ARGV do
  local key = p .. 'lease:' .. ARGV[i]
  if redis.call('GET', key) == me then redis.call('DEL', key) end
end
return 1
`;

/** Ids per script call, so one call never blocks Redis for long. */
const BATCH = 500;

/** The lease timings are options so tests can make takeover happen in a fraction of a second. */
export interface LeaseOptions {
  /** This process's name in the lease values (unique per process). */
  readonly instanceId: string;
  readonly logger: Logger;
  /** A lease not renewed for this long lapses and another process may take the task. */
  readonly ttlMs?: number;
  readonly renewEveryMs?: number;
  readonly scanEveryMs?: number;
}

/**
 * Poll ownership in a cluster: `P lease:<task id>` holds the owning process's id with a TTL. The
 * owner renews its leases every `renewEveryMs`; when it dies they lapse after `ttlMs`, and the
 * next scan of a surviving process (every `scanEveryMs`) claims the task and resumes it from its
 * record. A graceful shutdown releases everything at once.
 *
 * `holds` trusts a lease only until `ttl − safety` after the last renewal *began*, measured on
 * this process's clock: a process cut off from Redis stops driving its tasks before Redis can hand
 * them to anyone else.
 */
export class RedisLeases implements TaskOwnership {
  readonly scanEveryMs: number;
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #me: string;
  readonly #logger: Logger;
  readonly #ttlMs: number;
  readonly #safetyMs: number;
  /** Task id → until when this process may act on it. */
  readonly #held = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;
  #renewing = false;
  #complained = false;

  constructor(redis: Redis, prefix: string, options: LeaseOptions) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#me = options.instanceId;
    this.#logger = options.logger;
    this.#ttlMs = options.ttlMs ?? 4_000;
    this.#safetyMs = Math.min(1_000, this.#ttlMs / 4);
    this.scanEveryMs = options.scanEveryMs ?? 1_500;
    this.#timer = setInterval(() => void this.#renew(), options.renewEveryMs ?? 1_200);
    this.#timer.unref();
  }

  /** Tasks held right now, for tests and metrics. */
  get heldCount(): number {
    return this.#held.size;
  }

  holds(taskId: string): boolean {
    return (this.#held.get(taskId) ?? 0) > Date.now();
  }

  async claim(taskIds: readonly string[]): Promise<string[]> {
    const won: string[] = [];
    for (let i = 0; i < taskIds.length; i += BATCH) {
      const batch = taskIds.slice(i, i + BATCH);
      const started = Date.now();
      const held = (await this.#redis.eval(
        CLAIM,
        0,
        this.#prefix,
        this.#me,
        String(this.#ttlMs),
        ...batch,
      )) as string[];
      const until = started + this.#ttlMs - this.#safetyMs;
      for (const id of held) {
        this.#held.set(id, until);
        won.push(id);
      }
    }
    return won;
  }

  async release(taskId: string): Promise<void> {
    if (!this.#held.delete(taskId)) return;
    await this.#redis.eval(RELEASE, 0, this.#prefix, this.#me, taskId);
  }

  async releaseAll(): Promise<void> {
    const ids = [...this.#held.keys()];
    this.#held.clear();
    for (let i = 0; i < ids.length; i += BATCH) {
      await this.#redis.eval(RELEASE, 0, this.#prefix, this.#me, ...ids.slice(i, i + BATCH));
    }
  }

  close(): void {
    clearInterval(this.#timer);
  }

  async #renew(): Promise<void> {
    if (this.#renewing || this.#held.size === 0) return;
    this.#renewing = true;
    try {
      const ids = [...this.#held.keys()];
      for (let i = 0; i < ids.length; i += BATCH) {
        const batch = ids.slice(i, i + BATCH);
        const started = Date.now();
        const kept = new Set(
          (await this.#redis.eval(
            RENEW,
            0,
            this.#prefix,
            this.#me,
            String(this.#ttlMs),
            ...batch,
          )) as string[],
        );
        const until = started + this.#ttlMs - this.#safetyMs;
        for (const id of batch) {
          if (!this.#held.has(id)) continue; // released meanwhile
          if (kept.has(id)) this.#held.set(id, until);
          else {
            this.#held.delete(id);
            this.#logger.warn({ taskId: id }, 'lost the lease of a task; another process drives it now');
          }
        }
      }
      this.#complained = false;
    } catch (error) {
      if (!this.#complained) {
        this.#complained = true;
        this.#logger.warn(
          { err: (error as Error).message },
          'could not renew task leases (Redis unreachable); pausing those tasks until it is back',
        );
      }
    } finally {
      this.#renewing = false;
    }
  }
}
