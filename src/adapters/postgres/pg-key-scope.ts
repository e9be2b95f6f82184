/**
 * Which task rows belong to one PicWish key of the pool, as SQL: the same rule as `keyOfTask`
 * (scheduler/key-pool.ts) — a task's own key, and for the first key also the tasks stored
 * without a key id or with one no longer configured — so the elected leader of each key adopts
 * exactly the tasks its in-process scheduler would drive, and each key's queue counts its own.
 */
export interface PgKeyScope {
  /** The predicate on table alias `alias`, reading its one parameter as `$<param>`. */
  sql(alias: string, param: number): string;
  /** That parameter's value. */
  readonly value: readonly string[];
}

/** The scope of `keyId` among the configured `keyIds` (in configuration order). */
export function pgKeyScope(keyId: string, keyIds: readonly string[]): PgKeyScope {
  if (keyIds[0] === keyId) {
    return {
      sql: (alias, param) => `coalesce(${alias}.picwish_key_id, '') <> all($${param}::text[])`,
      value: keyIds.slice(1),
    };
  }
  return { sql: (alias, param) => `${alias}.picwish_key_id = any($${param}::text[])`, value: [keyId] };
}
