import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createScrubber, REDACTED } from '../../../src/shared/secret-scrubbing.js';

const KEY = 'pw-Secret_Key.0123456789+/=';
const scrub = createScrubber([KEY]);

describe('createScrubber', () => {
  it('scrubs the key as sent, percent-encoded, and in any letter case', () => {
    for (const form of [KEY, encodeURIComponent(KEY), KEY.toUpperCase(), KEY.toLowerCase()]) {
      expect(scrub(`key=${form};`)).toBe(`key=${REDACTED};`);
    }
  });

  it('scrubs the key base64-encoded inside a longer base64 text, at every alignment, in both alphabets', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (before, after) => {
        const encoded = Buffer.from(`${before}${KEY}${after}`, 'utf8');
        for (const text of [encoded.toString('base64'), encoded.toString('base64url')]) {
          const scrubbed = scrub(`Authorization: Basic ${text}`);
          expect(scrubbed).toContain(REDACTED);
          // What is left of the key's encoding is at most the two groups that share bytes with the rest.
          const left = scrubbed.replace(REDACTED, '').length - `Authorization: Basic `.length;
          expect(left).toBeLessThanOrEqual(text.length - Math.floor(KEY.length / 3) * 4 + 8);
        }
      }),
    );
  });

  it('leaves other text, and secrets too short to scrub safely, alone', () => {
    expect(scrub('nothing secret here')).toBe('nothing secret here');
    expect(createScrubber(['abc', null, undefined])('abc abc')).toBe('abc abc');
  });

  it('scrubs a secret holding regular-expression characters literally', () => {
    expect(createScrubber(['a.b*c(d)[e]'])('a.b*c(d)[e] axbbbc(d)[e]')).toBe(`${REDACTED} axbbbc(d)[e]`);
  });
});
