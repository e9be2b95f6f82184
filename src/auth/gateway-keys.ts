import { createHash, timingSafeEqual } from 'node:crypto';
import type { GatewayError } from '../core/errors.js';
import { err, ok, type Result } from '../shared/result.js';

/** The tenant every request belongs to when no gateway keys are configured (local mode). */
const LOCAL_TENANT = 'local';

/**
 * Who is calling. With `GATEWAY_API_KEYS` set, every operation needs `Authorization: Bearer <key>`
 * and the key names the tenant; only SHA-256 hashes of the keys are kept, and a presented key is
 * compared with every stored hash in constant time. With no keys, everyone is the local tenant.
 */
export class GatewayKeys {
  readonly #entries: readonly { tenant: string; hash: Buffer }[];

  constructor(pairs: readonly { tenant: string; key: string }[]) {
    this.#entries = pairs.map(({ tenant, key }) => ({ tenant, hash: sha256(key) }));
  }

  /** True when keys are configured and requests must carry one. */
  get required(): boolean {
    return this.#entries.length > 0;
  }

  /**
   * Every tenant a request can belong to — the configured names, or the local tenant without
   * keys: a closed list, which is what lets metrics carry the tenant as a label.
   */
  get tenants(): readonly string[] {
    return this.required ? [...new Set(this.#entries.map((entry) => entry.tenant))] : [LOCAL_TENANT];
  }

  /** The tenant for an `Authorization` header value, or UNAUTHENTICATED. */
  authenticate(
    authorization: string | undefined,
  ): Result<string, Extract<GatewayError, { kind: 'UNAUTHENTICATED' }>> {
    if (!this.required) return ok(LOCAL_TENANT);
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match?.[1]) {
      return err({
        kind: 'UNAUTHENTICATED',
        message: 'Send a gateway API key as "Authorization: Bearer <key>".',
      });
    }
    const presented = sha256(match[1]);
    let tenant: string | null = null;
    for (const entry of this.#entries) {
      if (timingSafeEqual(entry.hash, presented)) tenant = entry.tenant;
    }
    return tenant === null
      ? err({ kind: 'UNAUTHENTICATED', message: 'The gateway API key is not valid.' })
      : ok(tenant);
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
