import { describe, expect, it } from 'vitest';
import {
  custom,
  decimal,
  flag,
  httpUrl,
  integer,
  oneOf,
  onOff,
  postgresUrl,
  refuse,
  secret,
  text,
} from '../../../../src/config/settings/define.js';
import { family, parseFamilies } from '../../../../src/config/settings/family.js';

const meaning = 'what it means';

/** Parses one setting declared as `NAME` from `raw` (undefined: unset). */
function parseOne<T>(
  spec: Parameters<typeof family>[1][string] & { example: string },
  raw: string | undefined,
) {
  const one = family('Test', { NAME: spec }, (values) => ({ value: values.NAME as T }));
  return parseFamilies<{ value: T }>([one], raw === undefined ? {} : { NAME: raw });
}

function refusal(result: ReturnType<typeof parseOne>): string {
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.value)}`);
  expect(result.error.variable).toBe('NAME');
  return result.error.message;
}

describe('settings declared with the ready-made kinds', () => {
  it('takes the default when the variable is unset, empty or blank', () => {
    const port = integer({ meaning, default: 4000, min: 0, max: 65535 });
    for (const raw of [undefined, '', '   '])
      expect(parseOne(port, raw)).toEqual({ ok: true, value: { value: 4000 } });
    expect(parseOne(text({ meaning }), ' ')).toEqual({ ok: true, value: { value: null } });
    expect(parseOne(text({ meaning, default: 'x' }), undefined)).toEqual({ ok: true, value: { value: 'x' } });
  });

  it('shows the default as the example value, or nothing when unset means something else', () => {
    expect(integer({ meaning, default: 4000, min: 0, max: 65535 }).example).toBe('4000');
    expect(decimal({ meaning, default: 0.5, min: 0, max: 1 }).example).toBe('0.5');
    expect(flag({ meaning }).example).toBe('false');
    expect(onOff({ meaning }).example).toBe('on');
    expect(oneOf({ meaning, values: ['a', 'b'], default: 'b' }).example).toBe('b');
    expect(text({ meaning }).example).toBe('');
    expect(httpUrl({ meaning, default: 'https://x.example' }).example).toBe('https://x.example');
  });

  it('reads whole numbers within their range and names the variable otherwise', () => {
    const spec = integer({ meaning, default: 1, min: 0, max: 10 });
    expect(parseOne(spec, ' 7 ')).toEqual({ ok: true, value: { value: 7 } });
    expect(refusal(parseOne(spec, '1.5'))).toBe('NAME must be a whole number, got "1.5"');
    expect(refusal(parseOne(spec, '11'))).toBe('NAME must be between 0 and 10, got 11');
    expect(refusal(parseOne(spec, '-1'))).toBe('NAME must be between 0 and 10, got -1');
  });

  it('reads fractions as decimals, refusing signs, words and exponents', () => {
    const spec = decimal({ meaning, default: 2, min: 0.01, max: 1000 });
    expect(parseOne(spec, '.5')).toEqual({ ok: true, value: { value: 0.5 } });
    for (const raw of ['fast', '-1', '1e3'])
      expect(refusal(parseOne(spec, raw))).toBe(`NAME must be a number, got "${raw}"`);
    expect(refusal(parseOne(spec, '0.001'))).toBe('NAME must be between 0.01 and 1000, got 0.001');
  });

  it('reads flags as true/false, 1/0 or yes/no in any case, and on/off switches', () => {
    expect(parseOne(flag({ meaning }), 'YES')).toEqual({ ok: true, value: { value: true } });
    expect(parseOne(flag({ meaning }), '0')).toEqual({ ok: true, value: { value: false } });
    expect(refusal(parseOne(flag({ meaning }), 'maybe'))).toBe('NAME must be true or false, got "maybe"');
    expect(parseOne(onOff({ meaning }), 'OFF')).toEqual({ ok: true, value: { value: false } });
    expect(refusal(parseOne(onOff({ meaning }), 'maybe'))).toBe('NAME must be on or off, got "maybe"');
  });

  it('reads one of a few words, case-insensitively', () => {
    const spec = oneOf({ meaning, values: ['info', 'debug'], default: 'info' });
    expect(parseOne(spec, 'DEBUG')).toEqual({ ok: true, value: { value: 'debug' } });
    expect(refusal(parseOne(spec, 'loud'))).toBe('NAME must be one of info, debug, got "loud"');
  });

  it('reads http(s) URLs without trailing slashes and never echoes their credentials', () => {
    const spec = httpUrl({ meaning });
    expect(parseOne(spec, 'https://api.example//')).toEqual({
      ok: true,
      value: { value: 'https://api.example' },
    });
    expect(refusal(parseOne(spec, 'ftp://user:hunter2@files.example/'))).not.toContain('hunter2');
    expect(refusal(parseOne(spec, 'nowhere'))).toBe('NAME must be an absolute URL, got "nowhere"');
  });

  it('refuses a postgres URL of another scheme or none without echoing it', () => {
    const spec = postgresUrl({ meaning });
    expect(parseOne(spec, 'postgresql://db/x')).toEqual({ ok: true, value: { value: 'postgresql://db/x' } });
    expect(refusal(parseOne(spec, 'mysql://gw:hunter2@db/x'))).toBe(
      'NAME must be a postgres:// or postgresql:// URL, got mysql://…',
    );
    expect(refusal(parseOne(spec, 'gw:hunter2 at db'))).not.toContain('hunter2');
  });

  it('refuses a short secret without echoing it', () => {
    const message = refusal(parseOne(secret({ meaning, minLength: 16 }), 'short-secret'));
    expect(message).toBe('NAME must be at least 16 characters long');
  });

  it('hands a custom parser the trimmed text and its variable name', () => {
    const spec = custom({
      meaning,
      parse: (raw, name) => (raw === 'bad' ? refuse(name, `${name} is bad`) : raw),
    });
    expect(parseOne(spec, ' ok ')).toEqual({ ok: true, value: { value: 'ok' } });
    expect(refusal(parseOne(spec, 'bad'))).toBe('NAME is bad');
  });
});
