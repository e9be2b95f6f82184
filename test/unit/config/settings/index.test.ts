import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../src/config/config.js';
import { renderEnvExample } from '../../../../src/config/settings/env-example.js';
import { ALL_FAMILIES, GATEWAY_FAMILIES } from '../../../../src/config/settings/index.js';

const settings = ALL_FAMILIES.flatMap((family) => family.settings);

/** NAME=value lines of an .env file (comments and blank lines skipped). */
function envOf(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => /^[A-Z0-9_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

describe("the gateway's settings", () => {
  it('declares every variable once, in upper snake case, with a meaning', () => {
    const names = settings.map((setting) => setting.name);
    expect(new Set(names).size).toBe(names.length);
    for (const setting of settings) {
      expect(setting.name).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(setting.meaning.trim()).not.toBe('');
    }
  });

  it("starts the same from .env.example's values as from an empty environment: the example shows the defaults", () => {
    const fromExample = loadConfig(envOf(renderEnvExample(GATEWAY_FAMILIES)));
    expect(fromExample).toEqual(loadConfig({}));
    expect(fromExample.ok).toBe(true);
  });

  it('covers every variable the source reads', () => {
    const declared = new Set(settings.map((setting) => setting.name));
    const read = sourceFiles('src').flatMap((file) =>
      [
        ...readFileSync(file, 'utf8').matchAll(/process\.env(?:\.([A-Z0-9_]+)|\[['"]([A-Z0-9_]+)['"]\])/g),
      ].map((match) => match[1] ?? match[2]),
    );
    expect(read.filter((name) => name !== undefined && !declared.has(name))).toEqual([]);
  });

  it('lists AWS_REGION and AWS_SESSION_TOKEN, which the S3 settings read', () => {
    const config = loadConfig({
      BLOB_STORE_URL: 's3://bucket',
      AWS_REGION: 'eu-west-3',
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'example-secret',
      AWS_SESSION_TOKEN: 'example-token',
    });
    expect(config.ok && config.value.blobStore).toMatchObject({
      region: 'eu-west-3',
      credentials: { sessionToken: 'example-token' },
    });
    expect(
      loadConfig({ BLOB_STORE_URL: 's3://bucket', AWS_REGION: 'eu-west-3', S3_REGION: 'us-west-2' }),
    ).toMatchObject({
      value: { blobStore: { region: 'us-west-2' } },
    });
  });
});
