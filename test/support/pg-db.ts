import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { openPostgres, type PgConnection } from '../../src/adapters/postgres/connection.js';
import { migrate } from '../../src/adapters/postgres/migrations.js';

/**
 * A throwaway PostgreSQL database for one test file, on the server of TEST_DATABASE_URL (default:
 * the machine's own at 127.0.0.1:5432, trust auth, database `test`). Each file gets a fresh
 * database, so files running in parallel never see each other's rows; `drop` removes it `with
 * (force)`, which also ends connections a test left open.
 */
export interface TestDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Runs one statement on the admin database. */
async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `pwg_test_${randomBytes(6).toString('hex')}`;
  await admin(`create database ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin(`drop database if exists ${name} with (force)`),
  };
}

/**
 * The setup every PostgreSQL store spec shares: a throwaway database brought to the latest schema
 * before the file's tests and dropped after them. Read `db` and `url` inside tests and hooks, once
 * `beforeAll` has run.
 */
export function useMigratedDatabase(): { readonly db: PgConnection; readonly url: string } {
  let database: TestDatabase | undefined;
  let db: PgConnection | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
    db = openPostgres(database.url, pino({ level: 'silent' }));
    await migrate(db.pool);
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });
  return {
    get db() {
      if (!db) throw new Error('useMigratedDatabase: read db inside a test or hook');
      return db;
    },
    get url() {
      if (!database) throw new Error('useMigratedDatabase: read url inside a test or hook');
      return database.url;
    },
  };
}
