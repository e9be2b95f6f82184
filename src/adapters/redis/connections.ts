import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { TaskEventTarget } from '../../core/events.js';
import type { WatcherProbe } from '../../scheduler/ownership.js';

/**
 * The Redis connections of one gateway process (`REDIS_URL`): one for commands (store, queue,
 * leases, budget), one for publishing task updates and one held in subscriber mode. All keys live
 * under `prefix`, so several deployments can share one Redis database.
 *
 * The scripts address keys they compute from that prefix, which needs a single Redis node (with or
 * without replicas and Sentinel), not Redis Cluster.
 */
export interface RedisConnections {
  readonly commands: Redis;
  readonly publisher: Redis;
  readonly subscriber: Redis;
  readonly prefix: string;
  /** True when a PING answers within `timeoutMs`. */
  ping(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Key prefix for everything the gateway stores. */
export const DEFAULT_REDIS_PREFIX = 'pwg:';

/**
 * Connects to Redis. A lost connection never stops the process: ioredis reconnects by itself (with
 * a capped backoff), commands issued meanwhile fail fast (the callers retry on their own schedule)
 * and every connection has an 'error' listener, because an EventEmitter 'error' without one would
 * crash Node. The subscriber queues its commands until it is back, then re-subscribes.
 */
export async function connectRedis(
  url: string,
  logger: Logger,
  prefix: string = DEFAULT_REDIS_PREFIX,
): Promise<RedisConnections> {
  const base: RedisOptions = {
    retryStrategy: (attempt) => Math.min(100 * attempt, 2_000),
    connectTimeout: 5_000,
    lazyConnect: true,
  };
  const commands = new Redis(url, { ...base, maxRetriesPerRequest: 1, connectionName: 'pwg-commands' });
  const publisher = new Redis(url, { ...base, maxRetriesPerRequest: 1, connectionName: 'pwg-publish' });
  const subscriber = new Redis(url, {
    ...base,
    maxRetriesPerRequest: null,
    connectionName: 'pwg-subscribe',
  });
  for (const [name, client] of [
    ['commands', commands],
    ['publish', publisher],
    ['subscribe', subscriber],
  ] as const) {
    watchConnection(client, name, logger);
  }
  await Promise.all([commands.connect(), publisher.connect(), subscriber.connect()]);

  return {
    commands,
    publisher,
    subscriber,
    prefix,
    async ping(timeoutMs = 1_000) {
      let timer: NodeJS.Timeout | undefined;
      try {
        const answer = await Promise.race([
          commands.ping(),
          new Promise<null>((resolve) => {
            timer = setTimeout(() => resolve(null), timeoutMs);
          }),
        ]);
        return answer === 'PONG';
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await Promise.allSettled(
        [commands, publisher, subscriber].map(async (client) => {
          if (client.status === 'ready') await client.quit();
          else client.disconnect();
        }),
      );
    },
  };
}

/** Logs a connection's trouble once per outage instead of once per reconnect attempt. */
function watchConnection(client: Redis, name: string, logger: Logger): void {
  let down = false;
  client.on('error', (error: Error) => {
    if (down) return;
    down = true;
    logger.warn({ redis: name, err: error.message }, 'Redis connection failed; reconnecting');
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    logger.warn({ redis: name }, 'Redis connection is back');
  });
}

/**
 * The pub/sub transport for task updates across the cluster (`new TaskEvents(target)`), on the
 * publisher and subscriber connections. The event target fires its Redis commands without
 * awaiting them, so they are wrapped here: a failed PUBLISH is logged (the update is in the store;
 * subscribers see the next one), and a SUBSCRIBE that failed while Redis was away is sent again
 * once it is back — ioredis only re-subscribes channels whose SUBSCRIBE had succeeded. Channels
 * carry the key prefix: Redis pub/sub ignores database numbers, so deployments sharing one Redis
 * server would otherwise hear each other.
 */
export function createTaskEventTarget(redis: RedisConnections, logger: Logger): TaskEventTarget {
  const { publisher, subscriber, prefix } = redis;
  const wanted = new Set<string>();
  const subscribe = (channel: string) => {
    subscriber.subscribe(prefix + channel).catch(() => {
      // Retried on 'ready' below while still wanted.
    });
  };
  subscriber.on('ready', () => {
    for (const channel of wanted) subscribe(channel);
  });
  let complained = false;
  const publishClient = {
    publish: (channel: string, message: string) =>
      publisher.publish(prefix + channel, message).then(
        (receivers) => {
          complained = false;
          return receivers;
        },
        (error: Error) => {
          if (!complained) {
            complained = true;
            logger.warn({ err: error.message }, 'could not publish a task update (Redis unreachable)');
          }
          return 0;
        },
      ),
  };
  const subscribeClient = {
    on: (event: 'message', listener: (channel: string, message: string) => void) =>
      subscriber.on(event, (channel: string, message: string) => {
        if (channel.startsWith(prefix)) listener(channel.slice(prefix.length), message);
      }),
    subscribe: (channel: string) => {
      wanted.add(channel);
      subscribe(channel);
    },
    unsubscribe: (channel: string) => {
      wanted.delete(channel);
      subscriber.unsubscribe(prefix + channel).catch(() => {
        // A channel left subscribed only costs messages nobody listens to.
      });
    },
  };
  return createRedisEventTarget({
    publishClient: publishClient as unknown as Redis,
    subscribeClient: subscribeClient as unknown as Redis,
  }) as unknown as TaskEventTarget;
}

/**
 * Which tasks have subscribers on any process: every process with live subscribers of a task
 * subscribes to its channel (once, however many subscribers), so PUBSUB NUMSUB on the channel says
 * whether anyone, anywhere, watches it. The channel name is the event target's (`createPubSub`'s
 * `task-updated:<id>`, under the prefix).
 */
export function createWatcherProbe(redis: RedisConnections, refreshEveryMs = 1_000): WatcherProbe {
  return {
    refreshEveryMs,
    async watched(taskIds) {
      const found = new Set<string>();
      for (let i = 0; i < taskIds.length; i += 500) {
        const batch = taskIds.slice(i, i + 500);
        if (batch.length === 0) continue;
        const answer = (await redis.commands.pubsub(
          'NUMSUB',
          ...batch.map((id) => `${redis.prefix}task-updated:${id}`),
        )) as (string | number)[];
        for (let j = 0; j < batch.length; j += 1) {
          if (Number(answer[j * 2 + 1]) > 0) found.add(batch[j] as string);
        }
      }
      return found;
    },
  };
}
