import { describe, expect, it } from 'vitest';
import { flag, integer, refuse, text } from '../../../../src/config/settings/define.js';
import { family, parseFamilies } from '../../../../src/config/settings/family.js';

const meaning = 'what it means';

describe('families', () => {
  const first = family(
    'First',
    { A: integer({ meaning, default: 1, min: 0, max: 9 }), B: text({ meaning }) },
    (v) => {
      if (v.A > 5 && v.B === null) refuse('B', 'B is needed when A is over 5');
      return { a: v.A, b: v.B };
    },
  );
  const second = family('Second', { C: flag({ meaning }) }, (v) => ({ c: v.C }));

  it("builds each family's part and puts the parts together", () => {
    expect(parseFamilies([first, second], { A: '2', C: 'true', UNRELATED: 'x' })).toEqual({
      ok: true,
      value: { a: 2, b: null, c: true },
    });
  });

  it('reports a rule across settings on the variable the build names', () => {
    expect(parseFamilies([first], { A: '7' })).toEqual({
      ok: false,
      error: { variable: 'B', message: 'B is needed when A is over 5' },
    });
  });

  it('reports the first refusal in declaration order', () => {
    const result = parseFamilies([first, second], { C: 'maybe', A: 'x' });
    expect(!result.ok && result.error.variable).toBe('A');
  });

  it('names each setting by its key, in declaration order', () => {
    expect(first.settings.map((setting) => setting.name)).toEqual(['A', 'B']);
  });
});
