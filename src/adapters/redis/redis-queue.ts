import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { WaitingQueue } from '../../scheduler/ownership.js';

/**
 * The cluster's waiting tasks (`P waiting`, a zset by arrival): every process adds the tasks it
 * accepts and removes them once sent, so `queuePosition` is the place in the whole cluster's
 * queue, whichever process answers. Equal arrival times are ordered by id, as ZRANK does.
 */
export class RedisWaitingQueue implements WaitingQueue {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #logger: Logger;

  constructor(redis: Redis, prefix: string, logger: Logger) {
    this.#redis = redis;
    this.#key = `${prefix}waiting`;
    this.#logger = logger;
  }

  add(taskId: string, createdAt: number): void {
    this.#redis.zadd(this.#key, createdAt, taskId).catch((error: Error) => this.#complain(error));
  }

  remove(taskId: string): void {
    this.#redis.zrem(this.#key, taskId).catch((error: Error) => this.#complain(error));
  }

  async position(taskId: string): Promise<number | null> {
    try {
      const rank = await this.#redis.zrank(this.#key, taskId);
      return rank === null ? null : rank + 1;
    } catch {
      return null;
    }
  }

  async waitingAmong(taskIds: readonly string[]): Promise<string[]> {
    if (taskIds.length === 0) return [];
    const scores = await this.#redis.zmscore(this.#key, ...taskIds);
    return taskIds.filter((_, i) => scores[i] !== null);
  }

  #complain(error: Error): void {
    this.#logger.warn({ err: error.message }, 'waiting queue: Redis unreachable; positions may be off');
  }
}
