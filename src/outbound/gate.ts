import { lookup } from 'node:dns/promises';
import { err, ok, type Result } from '../shared/result.js';
import {
  type AddressCategory,
  classifyAddress,
  isAllowedAddress,
  isLocalhostName,
  literalAddress,
  PRIVATE_CATEGORIES,
} from './address.js';
import { type OutboundProblem, outboundProblem } from './problems.js';

/** One address a name resolved to. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/**
 * Resolves a host name to every address it has. Injectable so tests can make any name mean any
 * address without a DNS server, and without the fetch ever leaving loopback.
 */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** The operating system's resolver (`getaddrinfo`, so /etc/hosts counts), every address at once. */
export const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map(({ address, family }) => ({
    address,
    family: family === 6 ? 6 : 4,
  }));

/** What decides where an outbound connection may go. */
export interface GatePolicy {
  /** Opens loopback and private networks (`IMAGE_URL_ALLOW_PRIVATE`). */
  readonly allowPrivate: boolean;
  /**
   * Origins (`http://127.0.0.1:5555`) the gateway's own configuration names, such as the upstream
   * it talks to: reachable wherever they point, because no client chose them.
   */
  readonly trustedOrigins: ReadonlySet<string>;
  readonly resolve: Resolver;
  /**
   * Added to a refusal of an address that `allowPrivate` would open (loopback, private networks),
   * telling the operator which setting opens them. @default none
   */
  readonly privateHint?: string;
}

/** Where a connection is about to go, as the HTTP client names it. */
export interface ConnectTarget {
  readonly protocol: string;
  readonly hostname: string;
  readonly port: string | number;
}

/**
 * Decides whether a connection to `target` may be opened and, if so, to which address: the one
 * that was checked, so no second DNS lookup can swap in another (DNS rebinding). A name is refused
 * when any of its addresses is refused, so a record set mixing a public and an internal address
 * cannot win on a retry. Refusals never name the address a name resolved to.
 */
export async function admitConnection(
  target: ConnectTarget,
  policy: GatePolicy,
): Promise<Result<ResolvedAddress, OutboundProblem>> {
  const trusted = policy.trustedOrigins.has(originOf(target));
  const literal = literalAddress(target.hostname);
  if (literal !== null) {
    if (trusted || isAllowedAddress(literal, policy.allowPrivate)) {
      return ok({ address: literal, family: literal.includes(':') ? 6 : 4 });
    }
    return err(
      notAllowed(`is ${describe(classifyAddress(literal))}`, hintFor(classifyAddress(literal), policy)),
    );
  }
  if (!trusted && isLocalhostName(target.hostname) && !policy.allowPrivate) {
    return err(notAllowed('names this machine (localhost)', policy.privateHint));
  }
  let addresses: readonly ResolvedAddress[];
  try {
    addresses = await policy.resolve(target.hostname);
  } catch {
    addresses = [];
  }
  const [first] = addresses;
  if (!first) {
    return err(outboundProblem('URL_UNREACHABLE', `The host ${target.hostname} could not be resolved.`));
  }
  if (trusted) return ok(first);
  const refused = addresses.find(({ address }) => !isAllowedAddress(address, policy.allowPrivate));
  if (refused) {
    const category = classifyAddress(refused.address);
    return err(notAllowed(`resolves to ${describe(category)}`, hintFor(category, policy)));
  }
  return ok(first);
}

/** `protocol//host:port` with the default port spelled out, the form trusted origins are kept in. */
export function originOf(target: ConnectTarget): string {
  const port = String(target.port || (target.protocol === 'https:' ? 443 : 80));
  const host =
    target.hostname.includes(':') && !target.hostname.startsWith('[')
      ? `[${target.hostname}]`
      : target.hostname;
  return `${target.protocol}//${host.toLowerCase()}:${port}`;
}

/** The trusted-origin form of a configured URL such as `PICWISH_BASE_URL`. */
export function originOfUrl(url: string): string {
  const parsed = new URL(url);
  return originOf({ protocol: parsed.protocol, hostname: parsed.hostname, port: parsed.port });
}

const DESCRIPTIONS: Readonly<Record<string, string>> = {
  loopback: 'a loopback address (this machine)',
  private: 'a private-network address',
  'unique-local': 'a unique-local (private) IPv6 address',
  cgnat: 'a carrier-grade NAT address (100.64.0.0/10)',
  'link-local': 'a link-local address',
  metadata: 'a cloud metadata address',
  multicast: 'a multicast address',
  unspecified: 'an unspecified address',
  broadcast: 'the broadcast address',
  reserved: 'a reserved address',
};

function describe(category: string): string {
  return DESCRIPTIONS[category] ?? 'an address the gateway does not fetch from';
}

function notAllowed(detail: string, hint?: string): OutboundProblem {
  return outboundProblem(
    'URL_NOT_ALLOWED',
    `The URL's host ${detail}; the gateway only fetches from public internet addresses.${hint ? ` ${hint}` : ''}`,
  );
}

/** The policy's hint, for the categories `allowPrivate` opens (never for metadata and the like). */
function hintFor(category: AddressCategory, policy: GatePolicy): string | undefined {
  return PRIVATE_CATEGORIES.has(category) ? policy.privateHint : undefined;
}
