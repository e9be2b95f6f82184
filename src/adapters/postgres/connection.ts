import pg from 'pg';
import type { Logger } from 'pino';

/**
 * The advisory-lock namespaces of this gateway (the first key of PostgreSQL's two-key form), so
 * its locks never collide with one another or with another application's on the same database.
 */
export const LOCK_SPACE = {
  /** Held around schema migrations, so instances starting together migrate one after the other. */
  migrations: 0x70770001,
  /** Taken per tenant (second key: `hashtext(tenant_id)`) while a task is inserted. */
  tenant: 0x70770002,
  /** Held by the elected scheduler of a PicWish key (second key: `hashtext(keyId)`). */
  leader: 0x70770003,
} as const;

/**
 * The PostgreSQL connection pool of one gateway process (`DATABASE_URL`). An idle client whose
 * server went away emits 'error' on the pool; without a listener that would crash Node, so it is
 * logged once per outage and the pool opens a fresh client on the next query.
 */
export interface PgConnection {
  readonly pool: pg.Pool;
  readonly url: string;
  /** True when `select 1` answers within `timeoutMs`. */
  ping(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Opens the pool; nothing connects until the first query. */
export function openPostgres(url: string, logger: Logger, max = 10): PgConnection {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: 'pwg',
  });
  let complained = false;
  pool.on('error', (error) => {
    if (complained) return;
    complained = true;
    logger.warn({ err: error.message }, 'PostgreSQL connection lost; the next query reconnects');
  });
  pool.on('connect', () => {
    complained = false;
  });
  let closed: Promise<void> | null = null;
  return {
    pool,
    url,
    async ping(timeoutMs = 1_000) {
      let timer: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([
          pool.query('select 1').then(() => true),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(false), timeoutMs);
          }),
        ]);
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
      }
    },
    close() {
      closed ??= pool.end();
      return closed;
    },
  };
}

/** Runs `work` in one transaction on one client of `pool`: committed if it returns, rolled back if it throws. */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('begin');
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    // A client whose rollback fails is dead: destroy it rather than hand it to the next caller.
    await client.query('rollback').catch((failure: Error) => {
      broken = failure;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}
