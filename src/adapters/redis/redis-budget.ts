import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { BUDGET_MARGIN_MS, type BudgetSlot, type UpstreamBudget } from '../../scheduler/budget.js';

/**
 * Reserves one call in the cluster's window, on Redis's clock (TIME), so every gateway process
 * shares one PicWish budget whatever its own clock says. The same two rules as `SpacedBudget`:
 *
 * - spacing: `slot = max(now, next); next = slot + gap`;
 * - the window by answer time: `P budget:calls` holds every call that still occupies PicWish's
 *   window, scored by when it stops occupying it — `slot + cap` while in flight (so a call of a
 *   process that died frees itself), `settled + window + margin` once released. A new call is
 *   reserved only while fewer than `perWindow` calls occupy the window.
 *
 * Answers `{wait, 1, previousNext, next}` (a reservation `wait` ms from now; the spacing it moved,
 * for handing an unused slot back) or `{retry, 0}` (the window is full; ask again in `retry` ms,
 * because an in-flight call may settle any moment).
 */
const RESERVE = `
local p, gap, perWindow, cap, id = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local calls = p .. 'budget:calls'
redis.call('ZREMRANGEBYSCORE', calls, '-inf', now)
local occupied = redis.call('ZCARD', calls)
if occupied >= perWindow then
  local first = redis.call('ZRANGE', calls, 0, 0, 'WITHSCORES')
  local retry = math.min(math.max(tonumber(first[2]) - now, 5), 50)
  return {retry, 0}
end
local next = tonumber(redis.call('GET', p .. 'budget:next') or '0')
local slot = math.max(now, next)
redis.call('SET', p .. 'budget:next', slot + gap, 'PX', math.ceil(slot + gap - now + 60000))
redis.call('ZADD', calls, slot + cap, id)
return {slot - now, 1, next, slot + gap}
`;

/**
 * The slot was not used after all (no call was made): it leaves the window, and the spacing goes
 * back to where it was if nothing was reserved or backed off since.
 */
const UNUSE = `
local p, id, previous, granted = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREM', p .. 'budget:calls', id)
local key = p .. 'budget:next'
if tonumber(redis.call('GET', key) or '0') == granted then
  if previous > 0 then redis.call('SET', key, previous, 'KEEPTTL') else redis.call('DEL', key) end
end
return 1
`;

/** The call settled: it occupies the window for one more window (plus margin) from now. */
const RELEASE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', ARGV[1] .. 'budget:calls', 'XX', now + tonumber(ARGV[3]), ARGV[2])
return 1
`;

/** Nobody starts a call for `ms` (after a 429). */
const BACK_OFF = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local key = ARGV[1] .. 'budget:next'
local until_ = now + tonumber(ARGV[2])
local next = tonumber(redis.call('GET', key) or '0')
if until_ > next then redis.call('SET', key, until_, 'PX', tonumber(ARGV[2]) + 60000) end
return 1
`;

/** How long to wait before asking again while Redis does not answer. */
const REDIS_RETRY_MS = 500;

/** What the cluster budget needs from the configuration (`PICWISH_QPS`, `PICWISH_TIMEOUT_MS`). */
export interface RedisBudgetOptions {
  readonly qps: number;
  /** The longest an upstream call can take (PICWISH_TIMEOUT_MS): bounds a dead process's slot. */
  readonly callTimeoutMs: number;
  readonly logger: Logger;
}

/**
 * The cluster-wide budget (`REDIS_URL`): every process asks Redis for its slots, so N gateways
 * together stay within one key's QPS. While Redis is unreachable nothing is granted (a call we
 * cannot account for could be the 429 that hurts everyone); `acquire` keeps asking until Redis is
 * back or its signal aborts.
 */
export class RedisBudget implements UpstreamBudget {
  readonly qps: number;
  readonly perWindow: number;
  readonly windowMs: number;
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #gapMs: number;
  readonly #capMs: number;
  readonly #logger: Logger;
  readonly #closing = new AbortController();
  #granted = 0;

  constructor(redis: Redis, prefix: string, options: RedisBudgetOptions) {
    const { qps } = options;
    if (!(qps > 0) || !Number.isFinite(qps)) throw new RangeError(`qps must be positive, got ${qps}`);
    this.#redis = redis;
    this.#prefix = prefix;
    this.qps = qps;
    this.perWindow = Math.max(1, Math.floor(qps));
    this.windowMs = Math.max(1000, (this.perWindow * 1000) / qps);
    this.#gapMs = Math.ceil(1000 / qps + BUDGET_MARGIN_MS);
    this.#capMs = options.callTimeoutMs + this.windowMs + 5_000;
    this.#logger = options.logger;
  }

  get granted(): number {
    return this.#granted;
  }

  async acquire(signal?: AbortSignal): Promise<BudgetSlot | null> {
    const id = randomUUID();
    let complained = false;
    for (;;) {
      if (signal?.aborted || this.#closing.signal.aborted) return null;
      let answer: [number, number, number?, number?];
      try {
        answer = (await this.#redis.eval(
          RESERVE,
          0,
          this.#prefix,
          String(this.#gapMs),
          String(this.perWindow),
          String(this.#capMs),
          id,
        )) as [number, number, number?, number?];
      } catch (error) {
        if (!complained) {
          complained = true;
          this.#logger.warn({ err: (error as Error).message }, 'upstream budget: Redis unreachable; waiting');
        }
        await this.#sleep(REDIS_RETRY_MS, signal);
        continue;
      }
      const [ms, reserved, previousNext = 0, grantedNext = 0] = answer;
      if (!reserved) {
        await this.#sleep(ms, signal);
        continue;
      }
      const slot = this.#slot(id, previousNext, grantedNext);
      if (ms > 0 && !(await this.#sleep(ms, signal))) {
        // Aborted while waiting for a reserved slot: give it back as a call that never left.
        slot.release(false);
        return null;
      }
      this.#granted += 1;
      return slot;
    }
  }

  backOff(ms: number): void {
    this.#redis.eval(BACK_OFF, 0, this.#prefix, String(Math.ceil(ms))).catch((error: Error) => {
      this.#logger.warn({ err: error.message }, 'upstream budget: could not record a back-off in Redis');
    });
  }

  close(): void {
    this.#closing.abort();
  }

  #slot(id: string, previousNext: number, grantedNext: number): BudgetSlot {
    let released = false;
    return {
      release: (used = true) => {
        if (released) return;
        released = true;
        const settled = used
          ? this.#redis.eval(RELEASE, 0, this.#prefix, id, String(this.windowMs + BUDGET_MARGIN_MS))
          : this.#redis.eval(UNUSE, 0, this.#prefix, id, String(previousNext), String(grantedNext));
        settled.catch(() => {
          // The reservation frees itself at `slot + cap`; nothing to do.
        });
      },
    };
  }

  /** Resolves true after `ms`, or false as soon as `signal` or `close()` aborts. */
  #sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const signals = [this.#closing.signal, ...(signal ? [signal] : [])];
      const onAbort = () => {
        clearTimeout(timer);
        for (const each of signals) each.removeEventListener('abort', onAbort);
        resolve(false);
      };
      const timer = setTimeout(() => {
        for (const each of signals) each.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      for (const each of signals) {
        if (each.aborted) return onAbort();
        each.addEventListener('abort', onAbort, { once: true });
      }
    });
  }
}
