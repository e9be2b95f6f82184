import { describe, expect, it } from 'vitest';
import { UrlSigner } from '../../../src/results/signer.js';

const BASE = 'https://gateway.example';
const KEY = 'tasks/t-1/0.png';
const NOW = Date.UTC(2026, 0, 1, 12, 0, 30);
const signer = new UrlSigner('a signing secret of some length', BASE, 3600);

/** The link's exp and sig, as the /files route reads them from its query string. */
function partsOf(url: string): { key: string; exp: string | null; sig: string | null } {
  const parsed = new URL(url);
  return {
    key: parsed.pathname.slice('/files/'.length),
    exp: parsed.searchParams.get('exp'),
    sig: parsed.searchParams.get('sig'),
  };
}

describe('UrlSigner', () => {
  it('signs a link under /files/ that verifies for its key until it expires', () => {
    const { url } = signer.sign(KEY, NOW);
    expect(url.startsWith(`${BASE}/files/${KEY}?exp=`)).toBe(true);
    const { key, exp, sig } = partsOf(url);
    expect(key).toBe(KEY);
    expect(signer.verify(key, exp, sig, NOW)).toBe('ok');
  });

  it('rounds the expiry up to the minute, so reads within a minute get the same link', () => {
    const first = signer.sign(KEY, NOW);
    const later = signer.sign(KEY, NOW + 20_000);
    expect(later.url).toBe(first.url);
    expect(first.expiresAt.getTime() % 60_000).toBe(0);
    expect(first.expiresAt.getTime()).toBeGreaterThanOrEqual(NOW + 3_600_000);
    expect(first.expiresAt.getTime()).toBeLessThan(NOW + 3_660_000);
    expect(Number(partsOf(first.url).exp) * 1000).toBe(first.expiresAt.getTime());
  });

  it('answers "expired" for a genuine link after its expiry, and "ok" at the expiry itself', () => {
    const { url, expiresAt } = signer.sign(KEY, NOW);
    const { exp, sig } = partsOf(url);
    expect(signer.verify(KEY, exp, sig, expiresAt.getTime())).toBe('ok');
    expect(signer.verify(KEY, exp, sig, expiresAt.getTime() + 1)).toBe('expired');
  });

  it('answers "invalid" for a link pointed at another task\'s file', () => {
    const { exp, sig } = partsOf(signer.sign(KEY, NOW).url);
    expect(signer.verify('tasks/t-2/0.png', exp, sig, NOW)).toBe('invalid');
  });

  it('answers "invalid" for a link stretched in time', () => {
    const { exp, sig } = partsOf(signer.sign(KEY, NOW).url);
    expect(signer.verify(KEY, String(Number(exp) + 3600), sig, NOW)).toBe('invalid');
  });

  it('answers "invalid" for a tampered signature, of the same length or not', () => {
    const { exp, sig } = partsOf(signer.sign(KEY, NOW).url);
    const flipped = `${sig?.[0] === 'A' ? 'B' : 'A'}${sig?.slice(1)}`;
    expect(signer.verify(KEY, exp, flipped, NOW)).toBe('invalid');
    expect(signer.verify(KEY, exp, `${sig}A`, NOW)).toBe('invalid');
    expect(signer.verify(KEY, exp, '', NOW)).toBe('invalid');
  });

  it('answers "invalid" for a link signed with another secret', () => {
    const other = new UrlSigner('another signing secret entirely', BASE, 3600);
    const { exp, sig } = partsOf(other.sign(KEY, NOW).url);
    expect(signer.verify(KEY, exp, sig, NOW)).toBe('invalid');
  });

  it.each([
    ['missing', null],
    ['not a number', '12abc'],
    ['negative', '-60'],
    ['longer than 12 digits', '1'.repeat(13)],
  ])('answers "invalid" for an exp %s, before checking the signature', (_, exp) => {
    const { sig } = partsOf(signer.sign(KEY, NOW).url);
    expect(signer.verify(KEY, exp, sig, NOW)).toBe('invalid');
  });

  it('answers "invalid" for a link without a signature', () => {
    const { exp } = partsOf(signer.sign(KEY, NOW).url);
    expect(signer.verify(KEY, exp, null, NOW)).toBe('invalid');
  });
});
