/**
 * The URL of the test Redis database `db`. Each test file that flushes a database owns its own
 * number (store-redis 11, cluster 12, redis-coordination 13): vitest runs files in parallel, and two
 * files flushing one database would wipe each other's keys. TEST_REDIS_URL may point at another
 * server, but its database number is replaced, never shared between files.
 */
export function testRedisUrl(db: number): string {
  const url = new URL(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
  url.pathname = `/${db}`;
  return url.toString();
}
