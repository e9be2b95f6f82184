import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Who may read `/metrics` and the details of `/readyz`: they name every tenant's operations, the
 * host, the process and the upstream. With `METRICS_TOKEN` set, a request bearing it; without one,
 * anyone when the gateway has no keys (local use) and no one when it has (a public gateway must
 * not show its internals to the world: set METRICS_TOKEN to scrape it).
 */
export function createOperatorCheck(options: {
  readonly token: string | null;
  readonly keysRequired: boolean;
}): (req: IncomingMessage) => boolean {
  const { token } = options;
  if (token === null) return () => !options.keysRequired;
  const expected = digest(token);
  return (req) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    return match?.[1] !== undefined && timingSafeEqual(digest(match[1]), expected);
  };
}

/** Equal-length digests, so comparing them takes the same time whatever was sent. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
