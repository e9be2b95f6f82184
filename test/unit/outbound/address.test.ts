import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { admitConnection, type GatePolicy } from '../../../src/outbound/gate.js';
import { type AddressCategory, classifyAddress, isAllowedAddress } from '../../../src/outbound/index.js';
import { stubResolver } from '../../support/loopback-transport.js';

/**
 * The address policy of the guarded fetcher (issues #14 and #18), without any connection: the
 * classifier on its own, and the gate that a connection asks first, fed URL hostnames exactly as
 * the WHATWG URL parser hands them over. Nothing here opens a socket.
 */

const closed: GatePolicy = { allowPrivate: false, trustedOrigins: new Set(), resolve: stubResolver() };
const open: GatePolicy = { ...closed, allowPrivate: true };

/** What the gate says about a URL, as the guarded fetcher's connector would ask it. */
async function gate(url: string, policy: GatePolicy = closed): Promise<string> {
  const { protocol, hostname, port } = new URL(url);
  const verdict = await admitConnection({ protocol, hostname, port }, policy);
  return verdict.ok ? `allowed ${verdict.value.address}` : verdict.error.reason;
}

describe('the address classifier', () => {
  it.each<[string, AddressCategory]>([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['10.0.0.5', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.20', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fd00::1', 'unique-local'],
    ['fc00::1', 'unique-local'],
    ['fdff:ffff::1', 'unique-local'],
    ['224.0.0.251', 'multicast'],
    ['ff02::1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['not an address', 'reserved'],
  ])('classifies %s as %s', (address, category) => {
    expect(classifyAddress(address)).toBe(category);
  });

  it.each<[string, AddressCategory]>([
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:0:10.0.0.1', 'private'],
    ['::127.0.0.1', 'loopback'],
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['64:ff9b:1::1', 'private'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:c0a8:101::1', 'private'],
  ])('judges %s by the IPv4 address inside it (%s)', (address, category) => {
    expect(classifyAddress(address)).toBe(category);
  });

  it.each([
    '8.8.8.8',
    '93.184.216.34',
    '100.128.0.1',
    '172.32.0.1',
    '2606:4700:4700::1111',
    '64:ff9b::808:808',
  ])('lets the public address %s through', (address) => {
    expect(classifyAddress(address)).toBe('public');
    expect(isAllowedAddress(address, false)).toBe(true);
  });

  it('opens loopback, private, unique-local and CGNAT with allowPrivate, never link-local or metadata', () => {
    for (const address of ['127.0.0.1', '::1', '10.0.0.5', 'fd12::1', '100.64.0.1']) {
      expect([address, isAllowedAddress(address, false)]).toEqual([address, false]);
      expect([address, isAllowedAddress(address, true)]).toEqual([address, true]);
    }
    for (const address of [
      '169.254.169.254',
      'fd00:ec2::254',
      '169.254.10.10',
      'fe80::1',
      '224.0.0.1',
      '0.0.0.0',
    ]) {
      expect([address, isAllowedAddress(address, true)]).toEqual([address, false]);
    }
  });
});

describe('the gate, fed URL hostnames', () => {
  it.each([
    'http://127.0.0.1/',
    'http://[::1]/',
    'http://0x7f000001/',
    'http://2130706433/',
    'http://017700000001/',
    'http://0177.0.0.1/',
    'http://127.1/',
    'http://[::ffff:127.0.0.1]/',
    'http://[0:0:0:0:0:ffff:7f00:1]/',
    'http://localhost/',
    'http://LOCALHOST./',
    'http://shop.localhost/',
    'http://169.254.169.254/latest/meta-data/',
    'http://[fd00:ec2::254]/',
    'http://0.0.0.0/',
  ])('refuses %s with the default settings, without resolving anything', async (url) => {
    expect(await gate(url)).toBe('URL_NOT_ALLOWED');
  });

  it('refuses a name when any of its addresses is internal, and says why without naming it', async () => {
    const policy: GatePolicy = {
      ...closed,
      resolve: stubResolver({ 'mixed.test': ['93.184.216.34', '10.0.0.5'], 'cgnat.test': ['100.64.3.4'] }),
    };
    expect(await gate('http://mixed.test/', policy)).toBe('URL_NOT_ALLOWED');
    expect(await gate('http://cgnat.test/', policy)).toBe('URL_NOT_ALLOWED');
    const { protocol, hostname, port } = new URL('http://mixed.test/');
    const verdict = await admitConnection({ protocol, hostname, port }, policy);
    expect(verdict.ok ? '' : verdict.error.message).not.toContain('10.0.0.5');
  });

  it('hands back the checked address of a public name, for the connection to use', async () => {
    const policy: GatePolicy = { ...closed, resolve: stubResolver({ 'cdn.test': ['93.184.216.34'] }) };
    expect(await gate('https://cdn.test/p.png', policy)).toBe('allowed 93.184.216.34');
  });

  it('answers URL_UNREACHABLE for a name that does not resolve', async () => {
    expect(await gate('http://nowhere.test/')).toBe('URL_UNREACHABLE');
  });

  it('lets a trusted origin (the configured upstream) through wherever it points, and only that origin', async () => {
    const policy: GatePolicy = { ...closed, trustedOrigins: new Set(['http://127.0.0.1:5555']) };
    expect(await gate('http://127.0.0.1:5555/results/x.png', policy)).toBe('allowed 127.0.0.1');
    expect(await gate('http://127.0.0.1:5556/results/x.png', policy)).toBe('URL_NOT_ALLOWED');
    expect(await gate('https://127.0.0.1:5555/results/x.png', policy)).toBe('URL_NOT_ALLOWED');
  });

  it('lets loopback through with allowPrivate, but never cloud metadata', async () => {
    expect(await gate('http://127.0.0.1:8080/', open)).toBe('allowed 127.0.0.1');
    expect(await gate('http://localhost:8080/', open)).toBe('allowed 127.0.0.1');
    expect(await gate('http://169.254.169.254/', open)).toBe('URL_NOT_ALLOWED');
    expect(await gate('http://[fd00:ec2::254]/', open)).toBe('URL_NOT_ALLOWED');
  });
});

/** An IPv4 address as four octets. */
const octets = (first: fc.Arbitrary<number>) =>
  fc.tuple(first, fc.nat(255), fc.nat(255), fc.nat(255)) as fc.Arbitrary<[number, number, number, number]>;

/** Every spelling of an IPv4 address a URL host can take, as a URL. */
function spellings([a, b, c, d]: readonly number[]): string[] {
  const value = ((a! << 24) >>> 0) + (b! << 16) + (c! << 8) + d!;
  const hex = (n: number, width = 2) => n.toString(16).padStart(width, '0');
  const high = hex((a! << 8) + b!, 4);
  const low = hex((c! << 8) + d!, 4);
  return [
    `${a}.${b}.${c}.${d}`,
    String(value),
    `0x${value.toString(16)}`,
    `0${value.toString(8)}`,
    [a, b, c, d].map((n) => `0${n!.toString(8)}`).join('.'),
    [a, b, c, d].map((n) => `0x${hex(n!)}`).join('.'),
    `${a}.${(b! << 16) + (c! << 8) + d!}`,
    `${a}.${b}.${(c! << 8) + d!}`,
    `[::ffff:${a}.${b}.${c}.${d}]`,
    `[::ffff:${high}:${low}]`,
    `[0:0:0:0:0:ffff:${high}:${low}]`,
    `[::ffff:0:${high}:${low}]`,
    `[64:ff9b::${high}:${low}]`,
    `[2002:${high}:${low}::1]`,
  ].map((host) => `http://${host}:8080/`);
}

describe('the address checks hold for every spelling (property tests)', () => {
  it('refuses every IPv4 address in 127/8, in any textual form, with the default settings', async () => {
    await fc.assert(
      fc.asyncProperty(octets(fc.constant(127)), async (address) => {
        for (const url of spellings(address))
          expect([url, await gate(url)]).toEqual([url, 'URL_NOT_ALLOWED']);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses every IPv4-mapped (and NAT64, 6to4) form of a private, CGNAT or link-local address', async () => {
    const internal = fc.oneof(
      octets(fc.constant(10)),
      octets(fc.constant(172)).map(([, b, c, d]) => [172, 16 + (b % 16), c, d] as const),
      octets(fc.constant(192)).map(([, , c, d]) => [192, 168, c, d] as const),
      octets(fc.constant(100)).map(([, b, c, d]) => [100, 64 + (b % 64), c, d] as const),
      octets(fc.constant(169)).map(([, , c, d]) => [169, 254, c, d] as const),
    );
    await fc.assert(
      fc.asyncProperty(internal, async (address) => {
        for (const url of spellings(address))
          expect([url, await gate(url)]).toEqual([url, 'URL_NOT_ALLOWED']);
      }),
      { numRuns: 200 },
    );
  });

  it('never opens link-local or metadata addresses, even with allowPrivate', async () => {
    await fc.assert(
      fc.asyncProperty(
        octets(fc.constant(169)).map(([, , c, d]) => [169, 254, c, d] as const),
        async (address) => {
          for (const url of spellings(address)) {
            expect([url, await gate(url, open)]).toEqual([url, 'URL_NOT_ALLOWED']);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('classifies an IPv4 address and its IPv4-mapped IPv6 form alike', () => {
    fc.assert(
      fc.property(octets(fc.nat(255)), ([a, b, c, d]) => {
        const dotted = `${a}.${b}.${c}.${d}`;
        expect(classifyAddress(`::ffff:${dotted}`)).toBe(classifyAddress(dotted));
      }),
      { numRuns: 500 },
    );
  });
});
