import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

/** graphql-sse's single-connection token header. */
export const STREAM_TOKEN_HEADER = 'x-graphql-event-stream-token';

const json = { 'content-type': 'application/json; charset=utf-8' };

/** The defaults of {@link StreamTokensOptions}, the same as config.ts's for the env variables. */
const STREAM_RESERVATION_DEFAULTS = { ttlMs: 5_000, perTenant: 100 } as const;

/** How stream tokens are made and how long their reservations wait. */
export interface StreamTokensOptions {
  /**
   * The HMAC key tokens are signed with. A reservation lives in the memory of the process that
   * made it (README: sticky sessions), so a key per process is enough.
   * @default 32 random bytes, new for every process
   */
  readonly secret?: Uint8Array;
  /**
   * `SSE_RESERVATION_TTL_MS`: a reservation no stream connected to within this long is dropped.
   * @default 5000
   */
  readonly reservationTtlMs?: number;
  /**
   * `SSE_RESERVATIONS_PER_TENANT`: reservations a tenant may hold unconnected at once; a PUT
   * beyond answers 429 STREAM_RESERVATIONS_EXHAUSTED.
   * @default 100
   */
  readonly reservationsPerTenant?: number;
}

/** Mints single-connection stream tokens bound to a tenant, and checks them. */
export interface StreamTokens {
  /** A fresh token for a reservation by `tenant`. */
  mint(tenant: string): string;
  /** Whether `token` was minted for `tenant` (by this process's secret). */
  belongsTo(token: string, tenant: string): boolean;
}

/**
 * The one way single-connection tokens are made (graphql-sse.ts): a random UUID plus an HMAC of
 * the tenant and that UUID, so a token is unguessable and useless to another tenant — graphql-sse's
 * own default comes from `Math.random` and is accepted from whoever presents it.
 */
export function createStreamTokens(secret: Uint8Array = randomBytes(32)): StreamTokens {
  const mac = (tenant: string, id: string) =>
    createHmac('sha256', secret).update(`${tenant}\n${id}`).digest('base64url').slice(0, 32);
  return {
    mint(tenant) {
      const id = randomUUID();
      return `${id}.${mac(tenant, id)}`;
    },
    belongsTo(token, tenant) {
      const [id, presented, extra] = token.split('.');
      if (!id || !presented || extra !== undefined) return false;
      const expected = Buffer.from(mac(tenant, id));
      const given = Buffer.from(presented);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}

/** A refused reservation or stream connection, as an HTTP answer. */
export interface ReservationRefusal {
  readonly status: number;
  readonly statusText: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * The policy for single-connection reservations (graphql-sse.ts): graphql-sse itself keeps a
 * reservation until a stream connects, forever if none does. Here a reservation waits at most
 * `ttlMs` for its stream, then `onExpire` frees it; a tenant holds at most `perTenant`
 * unconnected ones; a token admits one stream connection.
 */
export class StreamReservations {
  readonly tokens: StreamTokens;
  readonly #ttlMs: number;
  readonly #perTenant: number;
  /** Unconnected reservations: their tenant and expiry timer. */
  readonly #waiting = new Map<string, { tenant: string; timer: NodeJS.Timeout }>();
  readonly #waitingPerTenant = new Map<string, number>();

  constructor(
    options: Pick<StreamTokensOptions, 'secret' | 'reservationTtlMs' | 'reservationsPerTenant'>,
    /** Frees the reservation of a token whose wait ran out. */
    private readonly onExpire: (token: string) => void,
  ) {
    this.tokens = createStreamTokens(options.secret);
    this.#ttlMs = options.reservationTtlMs ?? STREAM_RESERVATION_DEFAULTS.ttlMs;
    this.#perTenant = options.reservationsPerTenant ?? STREAM_RESERVATION_DEFAULTS.perTenant;
  }

  /** A fresh token waiting for its stream, or 429 STREAM_RESERVATIONS_EXHAUSTED. */
  reserve(tenant: string): string | ReservationRefusal {
    const held = this.#waitingPerTenant.get(tenant) ?? 0;
    if (held >= this.#perTenant) {
      const wait = Math.ceil(this.#ttlMs / 1000);
      const message = `Too many stream reservations without a stream (${this.#perTenant}): connect the reserved streams, or wait ${wait} s until unconnected ones expire.`;
      return {
        status: 429,
        statusText: 'Too Many Requests',
        body: JSON.stringify({
          errors: [{ message, extensions: { code: 'STREAM_RESERVATIONS_EXHAUSTED' } }],
        }),
        headers: { ...json, 'retry-after': String(wait) },
      };
    }
    const token = this.tokens.mint(tenant);
    const timer = setTimeout(() => {
      if (this.claim(token)) this.onExpire(token);
    }, this.#ttlMs);
    timer.unref();
    this.#waiting.set(token, { tenant, timer });
    this.#waitingPerTenant.set(tenant, held + 1);
    return token;
  }

  /** Ends the wait of `token` (its stream connects, or it is gone); true when it was still waiting. */
  claim(token: string): boolean {
    const reservation = this.#waiting.get(token);
    if (!reservation) return false;
    clearTimeout(reservation.timer);
    this.#waiting.delete(token);
    const left = (this.#waitingPerTenant.get(reservation.tenant) ?? 1) - 1;
    if (left > 0) this.#waitingPerTenant.set(reservation.tenant, left);
    else this.#waitingPerTenant.delete(reservation.tenant);
    return true;
  }

  /** 410 STREAM_RESERVATION_EXPIRED: the token admits no (further) stream. */
  expired(): ReservationRefusal {
    const message = `This stream token admits no stream: its reservation expired (no stream connected within ${this.#ttlMs} ms) or a stream already connected with it. Reserve a new one with PUT.`;
    return {
      status: 410,
      statusText: 'Gone',
      body: JSON.stringify({ errors: [{ message, extensions: { code: 'STREAM_RESERVATION_EXPIRED' } }] }),
      headers: json,
    };
  }
}
