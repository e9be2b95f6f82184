import { describe, expect, it } from 'vitest';
import { flag, integer, text } from '../../../../src/config/settings/define.js';
import { renderEnvExample } from '../../../../src/config/settings/env-example.js';
import { family } from '../../../../src/config/settings/family.js';

const server = family(
  'Server',
  {
    PORT: integer({ meaning: 'Port to listen on.\nSecond line.', default: 4000, min: 0, max: 65535 }),
    PUBLIC_URL: text({ meaning: 'Base of links. Default: where it listens.' }),
  },
  (v) => v,
);
const flags = family('Flags', { QUIET: flag({ meaning: 'true: say less.' }) }, (v) => v);

describe('.env.example from the declaration', () => {
  it("writes each family under its heading, each setting's meaning as comments above NAME=default", () => {
    const text = renderEnvExample([server, flags]);
    const body = text.slice(text.indexOf('# --- Server ---'));
    expect(body).toBe(
      [
        '# --- Server ---',
        '# Port to listen on.',
        '# Second line.',
        'PORT=4000',
        '# Base of links. Default: where it listens.',
        'PUBLIC_URL=',
        '',
        '# --- Flags ---',
        '# true: say less.',
        'QUIET=false',
        '',
      ].join('\n'),
    );
  });

  it('opens with a header that says where the file comes from', () => {
    const [first, second, third] = renderEnvExample([flags]).split('\n');
    expect([first, second, third].every((line) => line?.startsWith('# '))).toBe(true);
    expect(third).toContain('npm run settings:example');
  });
});
