import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HMAC-signed links to stored results: `/files/<key>?exp=<unix seconds>&sig=<base64url>`. The
 * signature covers the key and the expiry, so a link cannot be stretched in time or pointed at
 * another task's file. Expiries are rounded up to the minute so that repeated reads of a task
 * hand out the same URL for a while and browsers can cache it.
 */
export class UrlSigner {
  readonly #secret: Buffer;

  constructor(
    secret: string,
    private readonly baseUrl: string,
    private readonly ttlSeconds: number,
  ) {
    this.#secret = Buffer.from(secret, 'utf8');
  }

  /** A fresh absolute URL for `key` and the moment it stops working. */
  sign(key: string, now: number = Date.now()): { url: string; expiresAt: Date } {
    const exp = Math.ceil((now / 1000 + this.ttlSeconds) / 60) * 60;
    const sig = this.#mac(key, exp);
    return { url: `${this.baseUrl}/files/${key}?exp=${exp}&sig=${sig}`, expiresAt: new Date(exp * 1000) };
  }

  /** 'ok' for a genuine, unexpired link; otherwise why not (both answer 403). */
  verify(
    key: string,
    exp: string | null,
    sig: string | null,
    now: number = Date.now(),
  ): 'ok' | 'expired' | 'invalid' {
    if (!exp || !sig || !/^\d{1,12}$/.test(exp)) return 'invalid';
    const expected = Buffer.from(this.#mac(key, Number(exp)));
    const given = Buffer.from(sig);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'invalid';
    return Number(exp) * 1000 < now ? 'expired' : 'ok';
  }

  #mac(key: string, exp: number): string {
    return createHmac('sha256', this.#secret).update(`${key}\n${exp}`).digest('base64url');
  }
}
