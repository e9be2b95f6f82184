import type { Redis } from 'ioredis';
import { isTerminal, type Task } from '../../core/model.js';
import {
  IDEMPOTENCY_WINDOW_MS,
  IdempotencyConflictError,
  type TaskPage,
  type TaskPageQuery,
  type TaskStore,
} from '../../core/store.js';

/**
 * Keys, under the deployment's prefix `P`:
 *
 * | key | type | what |
 * |---|---|---|
 * | `P task:<id>` | hash | `doc` (the JSON record), `version`, `state`, `tenant`, `seq`, `idem` |
 * | `P seq` | string | global INCR counter: the order of creation across the cluster |
 * | `P tenant:<tenant>` | zset | the tenant's task ids by seq (newest-first pages) |
 * | `P unfinished` | zset | ids not yet terminal, by seq (the work to resume) |
 * | `P active:<tenant>` | set | the tenant's unfinished ids (`countActive`) |
 * | `P created` | zset | ids by createdAt (the retention sweep) |
 * | `P idem:<tenant>:<key>` | string | id of the task created with that key; expires after 24 h |
 *
 * The idempotency key is also a guard across processes: two instances that both found no task
 * for a key and both insert one cannot both succeed — the second insert is refused with
 * `IdempotencyConflictError`, so a replay racing its original is never sent to PicWish twice.
 */
const INSERT = `
local p = ARGV[1]
local id, tenant, state, version, createdAt, doc, idem, ttl = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local key = p .. 'task:' .. id
if redis.call('EXISTS', key) == 1 then return redis.error_reply('task ' .. id .. ' exists') end
local idemKey = p .. 'idem:' .. tenant .. ':' .. idem
if idem ~= '' then
  local earlier = redis.call('GET', idemKey)
  if earlier then
    local created = redis.call('HGET', p .. 'task:' .. earlier, 'created')
    if created and tonumber(created) >= tonumber(createdAt) - tonumber(ttl) then
      return redis.error_reply('IDEMPOTENCY_CONFLICT ' .. earlier)
    end
  end
end
local seq = redis.call('INCR', p .. 'seq')
redis.call('HSET', key, 'doc', doc, 'version', version, 'state', state, 'tenant', tenant, 'seq', seq, 'idem', idem, 'created', createdAt)
redis.call('ZADD', p .. 'tenant:' .. tenant, seq, id)
redis.call('ZADD', p .. 'created', createdAt, id)
if ARGV[10] == '0' then
  redis.call('ZADD', p .. 'unfinished', seq, id)
  redis.call('SADD', p .. 'active:' .. tenant, id)
end
if idem ~= '' then redis.call('SET', idemKey, id, 'PX', ttl) end
return seq
`;

/** Compare-and-set on `version`; keeps the unfinished indexes in step with the state. */
const UPDATE = `
local p = ARGV[1]
local id, previous, version, state, doc, terminal = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local key = p .. 'task:' .. id
local stored = redis.call('HMGET', key, 'version', 'tenant')
if stored[1] ~= previous then return 0 end
redis.call('HSET', key, 'doc', doc, 'version', version, 'state', state)
if terminal == '1' then
  redis.call('ZREM', p .. 'unfinished', id)
  redis.call('SREM', p .. 'active:' .. stored[2], id)
end
return 1
`;

const DELETE = `
local p = ARGV[1]
local id = ARGV[2]
local key = p .. 'task:' .. id
local stored = redis.call('HMGET', key, 'tenant', 'idem')
if not stored[1] then return 0 end
local tenant, idem = stored[1], stored[2]
redis.call('DEL', key)
redis.call('ZREM', p .. 'tenant:' .. tenant, id)
redis.call('ZREM', p .. 'unfinished', id)
redis.call('ZREM', p .. 'created', id)
redis.call('SREM', p .. 'active:' .. tenant, id)
if idem and idem ~= '' then
  local idemKey = p .. 'idem:' .. tenant .. ':' .. idem
  if redis.call('GET', idemKey) == id then redis.call('DEL', idemKey) end
end
return 1
`;

/** Ids per round trip when a page has to skip tasks of other states. */
const SCAN_CHUNK = 100;

/**
 * The shared store for a cluster (`REDIS_URL`): the same contract as the SQLite store
 * (test/store-contract.ts runs against both). Each write is one Lua script, so a record and its
 * indexes change together, and `update` is the same compare-and-set on `version`.
 */
export class RedisTaskStore implements TaskStore {
  readonly #redis: Redis;
  readonly #p: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#p = prefix;
  }

  async insert(task: Task): Promise<void> {
    await this.#redis
      .eval(
        INSERT,
        0,
        this.#p,
        task.id,
        task.tenantId,
        task.state,
        String(task.version),
        String(task.createdAt),
        JSON.stringify(task),
        task.idempotencyKey ?? '',
        String(IDEMPOTENCY_WINDOW_MS),
        isTerminal(task.state) ? '1' : '0',
      )
      .catch((error: Error) => {
        const conflict = /IDEMPOTENCY_CONFLICT (\S+)/.exec(error.message);
        throw conflict ? new IdempotencyConflictError(conflict[1] as string) : error;
      });
  }

  async get(id: string): Promise<Task | null> {
    const doc = await this.#redis.hget(this.#taskKey(id), 'doc');
    return doc ? (JSON.parse(doc) as Task) : null;
  }

  async update(next: Task): Promise<boolean> {
    const changed = await this.#redis.eval(
      UPDATE,
      0,
      this.#p,
      next.id,
      String(next.version - 1),
      String(next.version),
      next.state,
      JSON.stringify(next),
      isTerminal(next.state) ? '1' : '0',
    );
    return changed === 1;
  }

  async delete(id: string): Promise<boolean> {
    return (await this.#redis.eval(DELETE, 0, this.#p, id)) === 1;
  }

  async listUnfinished(): Promise<Task[]> {
    const ids = await this.#redis.zrange(`${this.#p}unfinished`, 0, -1);
    return (await this.#docs(ids)).filter((task) => !isTerminal(task.state));
  }

  async listUnfinishedIds(): Promise<string[]> {
    return this.#redis.zrange(`${this.#p}unfinished`, 0, -1);
  }

  async listForTenant(tenantId: string, query: TaskPageQuery): Promise<TaskPage> {
    const index = `${this.#p}tenant:${tenantId}`;
    let before = '+inf';
    if (query.after) {
      const score = await this.#redis.zscore(index, query.after);
      if (score === null) return { tasks: [], hasNextPage: false };
      before = `(${score}`;
    }
    const wanted = query.first + 1;
    const found: Task[] = [];
    let offset = 0;
    for (;;) {
      const chunk = query.state ? Math.max(SCAN_CHUNK, wanted) : wanted;
      const ids = await this.#redis.zrevrangebyscore(index, before, '-inf', 'LIMIT', offset, chunk);
      offset += ids.length;
      for (const task of await this.#docs(ids)) {
        if (query.state && task.state !== query.state) continue;
        found.push(task);
        if (found.length === wanted) break;
      }
      if (found.length === wanted || ids.length < chunk) break;
    }
    return { tasks: found.slice(0, query.first), hasNextPage: found.length > query.first };
  }

  async findByIdempotencyKey(tenantId: string, key: string, since: number): Promise<Task | null> {
    const id = await this.#redis.get(`${this.#p}idem:${tenantId}:${key}`);
    if (!id) return null;
    const task = await this.get(id);
    return task && task.tenantId === tenantId && task.createdAt >= since ? task : null;
  }

  async countActive(tenantId: string): Promise<number> {
    return this.#redis.scard(`${this.#p}active:${tenantId}`);
  }

  async listCreatedBefore(before: number, limit: number): Promise<Task[]> {
    const ids = await this.#redis.zrangebyscore(`${this.#p}created`, '-inf', `(${before}`, 'LIMIT', 0, limit);
    return this.#docs(ids);
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.#redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  /** The connection belongs to the composition root, which closes it after everything else. */
  async close(): Promise<void> {}

  #taskKey(id: string): string {
    return `${this.#p}task:${id}`;
  }

  /** The records of `ids`, in that order, skipping any deleted meanwhile. */
  async #docs(ids: readonly string[]): Promise<Task[]> {
    if (ids.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const id of ids) pipeline.hget(this.#taskKey(id), 'doc');
    const answers = (await pipeline.exec()) ?? [];
    const tasks: Task[] = [];
    for (const [error, doc] of answers) {
      if (error) throw error;
      if (typeof doc === 'string') tasks.push(JSON.parse(doc) as Task);
    }
    return tasks;
  }
}
