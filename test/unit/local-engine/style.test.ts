import { describe, expect, it } from 'vitest';
import { styleForScene, styleFromText } from '../../../src/local-engine/style.js';

describe('local engine: reading a prompt into a backdrop style', () => {
  it('finds colours, a material and moods among the prompt words, synonyms included', () => {
    const style = styleFromText('A golden watch on a sandy beach at sunset, gray pebbles');
    expect(style.colours).toEqual(['gold', 'grey']);
    expect(style.material).toBe('sand');
    expect([...style.moods]).toEqual(['sunset']);
  });

  it('lets negative_prompt remove colours, materials and moods', () => {
    const style = styleFromText('dark blue marble and wood', 'blue, marble, dark');
    expect(style.colours).toEqual([]);
    expect(style.material).toBe('wood');
    expect(style.moods.size).toBe(0);
  });

  it('darkens the scene for a dark mood and lightens it for a bright one', () => {
    const brightness = (prompt: string) => styleFromText(prompt).wallTop.reduce((sum, c) => sum + c, 0);
    expect(brightness('dark green')).toBeLessThan(brightness('green'));
    expect(brightness('bright green')).toBeGreaterThan(brightness('green'));
  });

  it('renders the same prompt with the same seed and a different prompt with another', () => {
    expect(styleFromText('red wood').seed).toBe(styleFromText('red wood').seed);
    expect(styleFromText('red wood').seed).not.toBe(styleFromText('red stone').seed);
  });

  it('gives an unknown scene_type the neutral grey studio', () => {
    const style = styleForScene(42, [{ id: 7, name: 'Red brick' }]);
    expect(style.colours).toEqual([]);
    expect(style.material).toBeNull();
    expect(style.moods.has('studio')).toBe(true);
    const [r, g, b] = style.wallTop;
    expect(Math.max(r, g, b) - Math.min(r, g, b)).toBeLessThan(5);
  });
});
