import { BlockList, isIP } from 'node:net';

/**
 * The address policy of outbound fetches: which IP addresses a URL given by a client (or by the
 * upstream) may make this gateway connect to. A URL's host is judged after WHATWG normalisation
 * (`new URL` turns `0x7f000001`, `2130706433`, `0177.0.0.1` into `127.0.0.1`) and after DNS
 * resolution, and an IPv6 address that carries an IPv4 one (mapped, compatible, NAT64, 6to4) is
 * judged by the IPv4 address inside, so no spelling of an internal address gets through.
 */

/** Why an address is not an ordinary public one; `public` when it is. */
export type AddressCategory =
  | 'public'
  | 'loopback'
  | 'private'
  | 'unique-local'
  | 'cgnat'
  | 'link-local'
  | 'metadata'
  | 'multicast'
  | 'unspecified'
  | 'broadcast'
  | 'reserved';

/**
 * What `IMAGE_URL_ALLOW_PRIVATE=true` opens: this machine and its private networks, for a local
 * setup and the tests. Link-local (where cloud metadata lives), multicast, broadcast, unspecified
 * and reserved addresses stay closed whatever the setting.
 */
export const PRIVATE_CATEGORIES: ReadonlySet<AddressCategory> = new Set([
  'loopback',
  'private',
  'unique-local',
  'cgnat',
]);

/** First match wins, so the narrow ranges (metadata, broadcast) come before the wide ones. */
const IPV4_RANGES: readonly (readonly [AddressCategory, string, number])[] = [
  ['metadata', '169.254.169.254', 32],
  ['broadcast', '255.255.255.255', 32],
  // "This network": Linux connects 0.0.0.0 (and the rest of 0/8) to this very machine.
  ['unspecified', '0.0.0.0', 8],
  ['loopback', '127.0.0.0', 8],
  ['private', '10.0.0.0', 8],
  ['private', '172.16.0.0', 12],
  ['private', '192.168.0.0', 16],
  ['cgnat', '100.64.0.0', 10],
  ['link-local', '169.254.0.0', 16],
  ['multicast', '224.0.0.0', 4],
  ['reserved', '240.0.0.0', 4],
  ['reserved', '192.0.0.0', 24],
  ['reserved', '192.0.2.0', 24],
  ['reserved', '192.88.99.0', 24],
  ['reserved', '198.18.0.0', 15],
  ['reserved', '198.51.100.0', 24],
  ['reserved', '203.0.113.0', 24],
];

const IPV6_RANGES: readonly (readonly [AddressCategory, string, number])[] = [
  ['metadata', 'fd00:ec2::254', 128],
  ['unspecified', '::', 128],
  ['loopback', '::1', 128],
  ['link-local', 'fe80::', 10],
  // Site-local, deprecated but still routed inside some networks.
  ['private', 'fec0::', 10],
  ['unique-local', 'fc00::', 7],
  ['multicast', 'ff00::', 8],
  // Local-use NAT64 (RFC 8215) leads into a private network; Teredo hides its IPv4 address.
  ['private', '64:ff9b:1::', 48],
  ['reserved', '2001::', 32],
  ['reserved', '2001:db8::', 32],
  ['reserved', '100::', 64],
];

interface Range {
  readonly category: AddressCategory;
  readonly list: BlockList;
}

function compile(ranges: typeof IPV4_RANGES, family: 'ipv4' | 'ipv6'): readonly Range[] {
  return ranges.map(([category, network, prefix]) => {
    const list = new BlockList();
    list.addSubnet(network, prefix, family);
    return { category, list };
  });
}

const V4 = compile(IPV4_RANGES, 'ipv4');
const V6 = compile(IPV6_RANGES, 'ipv6');

/**
 * The category of one IP address (IPv4 dotted, or IPv6 with or without brackets or a zone).
 * Anything that is not an IP address at all is `reserved`: what cannot be judged is refused.
 */
export function classifyAddress(address: string): AddressCategory {
  const bare = address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return firstMatch(V4, bare, 'ipv4');
  if (family !== 6) return 'reserved';
  const hextets = ipv6Hextets(bare);
  if (hextets === null) return 'reserved';
  const embedded = embeddedIpv4(hextets);
  if (embedded !== null) return classifyAddress(embedded);
  return firstMatch(V6, bare, 'ipv6');
}

/** True when the gateway may connect to `address` for a URL it did not configure itself. */
export function isAllowedAddress(address: string, allowPrivate: boolean): boolean {
  const category = classifyAddress(address);
  return category === 'public' || (allowPrivate && PRIVATE_CATEGORIES.has(category));
}

/**
 * The IP address a WHATWG-normalised URL hostname names, without brackets; null for a name that
 * needs DNS. `new URL` has already turned every numeric IPv4 spelling into dotted form.
 */
export function literalAddress(hostname: string): string | null {
  const bare = hostname.replace(/^\[(.*)\]$/, '$1');
  return isIP(bare) === 0 ? null : bare;
}

/** `localhost` and `*.localhost` always mean this machine (RFC 6761), whatever DNS says. */
export function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

function firstMatch(ranges: readonly Range[], address: string, family: 'ipv4' | 'ipv6'): AddressCategory {
  return ranges.find((range) => range.list.check(address, family))?.category ?? 'public';
}

/** The eight 16-bit groups of an IPv6 address, via the URL parser's canonical form. */
function ipv6Hextets(address: string): number[] | null {
  let canonical: string;
  try {
    canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return null;
  }
  const [head = '', tail] = canonical.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<string>(zeros).fill('0'), ...right].map((group) => Number.parseInt(group, 16));
}

/**
 * The IPv4 address an IPv6 one stands for, when it carries one: IPv4-mapped `::ffff:a.b.c.d`,
 * IPv4-translated `::ffff:0:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d` and
 * 6to4 `2002:aabb:ccdd::`. `::` and `::1` are IPv6's own and not read as IPv4.
 */
function embeddedIpv4(h: readonly number[]): string | null {
  const zero = (from: number, to: number) => h.slice(from, to).every((group) => group === 0);
  const low = (high: number, lowGroup: number) =>
    [high >> 8, high & 0xff, lowGroup >> 8, lowGroup & 0xff].join('.');
  if (zero(0, 5) && h[5] === 0xffff) return low(h[6]!, h[7]!);
  if (zero(0, 4) && h[4] === 0xffff && h[5] === 0) return low(h[6]!, h[7]!);
  if (h[0] === 0x64 && h[1] === 0xff9b && zero(2, 6)) return low(h[6]!, h[7]!);
  if (h[0] === 0x2002) return low(h[1]!, h[2]!);
  if (zero(0, 6) && !(h[6] === 0 && (h[7] === 0 || h[7] === 1))) return low(h[6]!, h[7]!);
  return null;
}
