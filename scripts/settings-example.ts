import { readFileSync, writeFileSync } from 'node:fs';
import { renderEnvExample } from '../src/config/settings/env-example.js';
import { ALL_FAMILIES } from '../src/config/settings/index.js';

/**
 * `npm run settings:example` writes `.env.example` from the settings' declaration; with `--check`
 * (scripts/test.sh) it writes nothing and fails when the file and the declaration disagree.
 */
const file = new URL('../.env.example', import.meta.url);
const expected = renderEnvExample(ALL_FAMILIES);
if (process.argv.includes('--check')) {
  let actual = '';
  try {
    actual = readFileSync(file, 'utf8');
  } catch {
    // A missing file is drift like any other.
  }
  if (actual !== expected) {
    const actualLines = actual.split('\n');
    const line = expected.split('\n').findIndex((text, index) => text !== actualLines[index]);
    console.error(
      `.env.example disagrees with src/config/settings (first at line ${line + 1}); run \`npm run settings:example\` and commit the result.`,
    );
    process.exit(1);
  }
  console.log('.env.example matches src/config/settings.');
} else {
  writeFileSync(file, expected);
}
