import { Agent, buildConnector, type Dispatcher, request } from 'undici';
import { err, ok, type Result } from '../shared/result.js';
import { guardBody, type OutboundBody, timedOut, tooLarge } from './body.js';
import { admitConnection, type GatePolicy, originOfUrl, type Resolver, systemResolver } from './gate.js';
import { type OutboundProblem, outboundProblem } from './problems.js';

/** How a guarded fetcher is set up; one per purpose (image URLs, result downloads). */
export interface GuardedFetcherOptions {
  /** Lets URLs reach loopback and private networks (`IMAGE_URL_ALLOW_PRIVATE`). */
  readonly allowPrivate: boolean;
  /** Added to refusals of loopback and private addresses: which setting opens them. @default none */
  readonly privateHint?: string;
  /**
   * URLs (only their origins count) that the gateway's own configuration names, reachable
   * wherever they point; a redirect away from them is checked like any other URL.
   * @default []
   */
  readonly trustedOrigins?: readonly string[];
  /** The whole fetch — DNS, connect, every redirect and the body — must finish within this. */
  readonly timeoutMs: number;
  /**
   * Opening one connection (TCP and TLS) must finish within this: an address that never answers
   * fails fast instead of holding its slot for the whole `timeoutMs`. @default min(timeoutMs, 10 s)
   */
  readonly connectTimeoutMs?: number;
  /** Bodies longer than this are refused (declared) or cut off (while streaming). */
  readonly maxBytes: number;
  /** @default 3 */
  readonly maxRedirects?: number;
  /** @default the operating system's resolver */
  readonly resolve?: Resolver;
  /**
   * Opens the socket to an address that was already checked. Tests replace it with one that
   * always dials a loopback sink, so even a broken check cannot reach another network.
   * @default undici's connector
   */
  readonly connector?: buildConnector.connector;
}

/** What one fetch wants beyond the fetcher's settings. */
export interface OpenOptions {
  /** Refuse (NOT_AN_IMAGE) unless the first bytes are an image's. @default false */
  readonly expectImage?: boolean;
}

const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
const DEFAULT_MAX_REDIRECTS = 3;

/** The connector's refusal, carried through undici to the fetch that caused it. */
class ConnectionRefused extends Error {
  constructor(readonly problem: OutboundProblem) {
    super(problem.message);
  }
}

/**
 * The one way the gateway fetches a URL it did not configure itself (image URLs, the upstream's
 * result links). Every connection — the first and each redirect's — goes through the address
 * policy after DNS resolution and is opened to the very address that was checked; only http and
 * https; at most `maxRedirects` redirects; a size cap while streaming; one deadline for it all;
 * the type read from the bytes. Every outcome is a value: it never throws for what a URL, DNS or
 * a remote server can do.
 */
export class GuardedFetcher {
  readonly #agent: Agent;
  readonly #options: GuardedFetcherOptions;
  readonly #policy: GatePolicy;

  constructor(options: GuardedFetcherOptions) {
    this.#options = options;
    const policy: GatePolicy = {
      allowPrivate: options.allowPrivate,
      trustedOrigins: new Set((options.trustedOrigins ?? []).map(originOfUrl)),
      resolve: options.resolve ?? systemResolver,
      ...(options.privateHint ? { privateHint: options.privateHint } : {}),
    };
    this.#policy = policy;
    const dial =
      options.connector ??
      buildConnector({
        timeout: Math.min(options.timeoutMs, options.connectTimeoutMs ?? 10_000),
      });
    this.#agent = new Agent({
      connect: (target, callback) => {
        admitConnection(target, policy).then(
          (admitted) => {
            if (admitted.ok) dial({ ...target, hostname: admitted.value.address }, callback);
            else callback(new ConnectionRefused(admitted.error), null);
          },
          (error: Error) => callback(error, null),
        );
      },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      keepAliveTimeout: 4_000,
    });
  }

  /** Fetches `rawUrl` (GET), following checked redirects, up to the first bytes of the body. */
  async open(rawUrl: string, options: OpenOptions = {}): Promise<Result<OutboundBody, OutboundProblem>> {
    const { timeoutMs, maxBytes } = this.#options;
    const deadline = AbortSignal.timeout(timeoutMs);
    const maxRedirects = this.#options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
    let url = parseFetchableUrl(rawUrl);
    for (let redirects = 0; url.ok; redirects++) {
      let response: Dispatcher.ResponseData;
      try {
        response = await request(url.value, {
          dispatcher: this.#agent,
          signal: deadline,
          headers: { accept: 'image/*, */*;q=0.5', 'user-agent': 'picwish-background-gateway' },
        });
      } catch (error) {
        return err(describeFailure(error, deadline, timeoutMs));
      }
      const { statusCode, headers, body } = response;
      const location = [headers.location].flat()[0];
      if (REDIRECTS.has(statusCode) && location) {
        discard(body);
        if (redirects >= maxRedirects) {
          return err(
            outboundProblem('URL_TOO_MANY_REDIRECTS', `The URL redirects more than ${maxRedirects} times.`),
          );
        }
        url = parseFetchableUrl(location, url.value);
        continue;
      }
      if (statusCode < 200 || statusCode >= 300) {
        discard(body);
        return err(outboundProblem('URL_UNREACHABLE', `The URL answered HTTP ${statusCode}.`, statusCode));
      }
      if (Number(headers['content-length'] ?? 0) > maxBytes) {
        discard(body);
        return err(tooLarge(maxBytes));
      }
      return guardBody(body, url.value.href, {
        maxBytes,
        expectImage: options.expectImage ?? false,
        timeoutMs,
        timedOut: () => deadline.aborted,
      });
    }
    return url;
  }

  /**
   * Whether `rawUrl` could be fetched now: its form, and its host's addresses against the policy,
   * without connecting. For URLs used later (webhooks), so a bad one is refused when it is given;
   * the fetch itself checks again, since DNS may answer differently by then.
   */
  async check(rawUrl: string): Promise<Result<URL, OutboundProblem>> {
    const url = parseFetchableUrl(rawUrl);
    if (!url.ok) return url;
    const { protocol, hostname, port } = url.value;
    const admitted = await admitConnection({ protocol, hostname, port }, this.#policy);
    return admitted.ok ? url : admitted;
  }

  /**
   * POSTs `body` to `rawUrl` once, through the same checks as `open`, and answers the status.
   * Redirects are not followed (a 3xx is an answer like any other), and the response body is read
   * up to `maxBytes` and dropped, within the one deadline.
   */
  async post(
    rawUrl: string,
    body: string,
    headers: Readonly<Record<string, string>>,
  ): Promise<Result<{ readonly status: number }, OutboundProblem>> {
    const { timeoutMs, maxBytes } = this.#options;
    const url = parseFetchableUrl(rawUrl);
    if (!url.ok) return url;
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      const response = await request(url.value, {
        method: 'POST',
        dispatcher: this.#agent,
        signal: deadline,
        headers: { 'user-agent': 'picwish-background-gateway', ...headers },
        body,
      });
      await response.body.dump({ limit: maxBytes }).catch(() => {});
      return ok({ status: response.statusCode });
    } catch (error) {
      return err(describeFailure(error, deadline, timeoutMs));
    }
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.#agent.close();
  }
}

/** Absolute http(s) URLs without credentials; a redirect's `Location` is read against `base`. */
function parseFetchableUrl(raw: string, base?: URL): Result<URL, OutboundProblem> {
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    return err(outboundProblem('URL_NOT_ALLOWED', 'The URL (or a redirect) is not a valid absolute URL.'));
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return err(
      outboundProblem(
        'URL_NOT_ALLOWED',
        `Only http and https URLs are fetched, not ${url.protocol.slice(0, -1)}.`,
      ),
    );
  }
  if (url.username || url.password) {
    return err(outboundProblem('URL_NOT_ALLOWED', 'The URL (or a redirect) carries credentials.'));
  }
  return ok(url);
}

function describeFailure(error: unknown, deadline: AbortSignal, timeoutMs: number): OutboundProblem {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof ConnectionRefused) return cause.problem;
  }
  const code = (error as { code?: unknown }).code;
  if (deadline.aborted || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT') {
    return timedOut(timeoutMs);
  }
  const detail = typeof code === 'string' ? ` (${code})` : '';
  return outboundProblem('URL_UNREACHABLE', `The URL could not be fetched${detail}.`);
}

/** Drops a body nobody will read; the connection goes with it, which is cheaper than draining. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}
