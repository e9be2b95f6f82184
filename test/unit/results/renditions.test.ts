import { describe, expect, it } from 'vitest';
import { RENDITION_STEPS, renditionKey, renditionStep } from '../../../src/results/renditions.js';

describe('rendition sizes (#27)', () => {
  it('takes an asked side up to the next step, so any number of distinct asks makes few renditions', () => {
    expect(renditionStep(16)).toBe(16);
    expect(renditionStep(17)).toBe(32);
    expect(renditionStep(320)).toBe(320);
    expect(renditionStep(321)).toBe(400);
    expect(renditionStep(4095)).toBe(4096);
    const keys = new Set<string>();
    for (let width = 16; width <= 4096; width += 1)
      keys.add(renditionKey('results/t/a.png', 'image/png', { format: 'WEBP', width, height: null }));
    expect(keys.size).toBe(RENDITION_STEPS.length);
  });

  it('keeps every step at most a third above the one before it from 64 px up', () => {
    for (const [index, step] of RENDITION_STEPS.entries()) {
      const before = RENDITION_STEPS[index - 1];
      if (before !== undefined && before >= 64) expect(step / before).toBeLessThanOrEqual(4 / 3);
    }
  });

  it('names the original itself when nothing would change', () => {
    expect(renditionKey('results/t/a.png', 'image/png', { format: 'PNG', width: null, height: null })).toBe(
      'results/t/a.png',
    );
    expect(renditionKey('results/t/a.png', 'image/png', { format: 'AVIF', width: null, height: 100 })).toBe(
      'results/t/a.png.r-w0-h128.avif',
    );
  });
});
