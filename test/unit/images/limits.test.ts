import { describe, expect, it } from 'vitest';
import { checkDecodeBudget, DECODE_BUDGET_BYTES, decodeBytes } from '../../../src/images/limits.js';

const PICWISH = { maxBytes: 20 * 1024 * 1024, minSide: 256, maxSide: 4096 };
const shape = (over: Partial<Parameters<typeof decodeBytes>[0]>) => ({
  format: 'png' as const,
  width: 4096,
  height: 4096,
  channels: 4,
  sampleBytes: 1,
  progressive: false,
  ...over,
});

describe('the decode budget', () => {
  it('costs nothing for images decoded row by row, whatever their size', () => {
    expect(decodeBytes(shape({ width: 12_000, height: 8_333, sampleBytes: 2 }))).toBe(0);
    expect(decodeBytes(shape({ format: 'jpeg', width: 12_000, height: 8_000, channels: 3 }))).toBe(0);
  });

  it('counts the whole frame of an interlaced PNG, the coefficients of a progressive JPEG, a WebP frame', () => {
    expect(decodeBytes(shape({ width: 12_000, height: 8_333, sampleBytes: 2, progressive: true }))).toBe(
      12_000 * 8_333 * 4 * 2,
    );
    expect(
      decodeBytes(shape({ format: 'jpeg', width: 6000, height: 4000, channels: 3, progressive: true })),
    ).toBe(6000 * 4000 * 3 * 2);
    expect(decodeBytes(shape({ format: 'webp', width: 1000, height: 1000 }))).toBe(4_000_000);
  });

  it('refuses the 12000×8333 16-bit interlaced bomb with IMAGE_TOO_LARGE and says what to send instead', () => {
    const refused = checkDecodeBudget(
      shape({ width: 12_000, height: 8_333, sampleBytes: 2, progressive: true }),
      PICWISH,
    );
    expect(refused?.reason).toBe('IMAGE_TOO_LARGE');
    expect(refused?.message).toContain('non-interlaced');
  });

  it('takes an interlaced 4096×4096 RGBA PNG within the default budget, and honours a smaller one', () => {
    const interlaced = shape({ progressive: true });
    expect(decodeBytes(interlaced)).toBeLessThanOrEqual(DECODE_BUDGET_BYTES);
    expect(checkDecodeBudget(interlaced, PICWISH)).toBeUndefined();
    expect(checkDecodeBudget(interlaced, { ...PICWISH, maxDecodeBytes: 16 * 1024 * 1024 })?.reason).toBe(
      'IMAGE_TOO_LARGE',
    );
  });
});
