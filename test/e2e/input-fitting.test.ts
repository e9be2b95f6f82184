import { mkdtempSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect } from 'vitest';
import { fitSpooledImage } from '../../src/images/fit.js';
import { PICWISH_PNG_LIMITS } from '../../src/images/limits.js';
import { transparentPng } from '../support/fixtures.js';
import { eventually, type TestStack, uploadOperation } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';

const GENERATE = `mutation($file: Upload!, $fit: Boolean) {
  generateBackground(input: { image: { file: $file, fit: $fit }, background: { prompt: "oak table" }, batchSize: 1 }) { id state }
}`;
const TASK = 'query($id: ID!) { backgroundTask(id: $id) { state images { width } error { code } } }';

const it = stackTest({ engine: { durationMs: 300 } });

async function upload(stack: TestStack, bytes: Buffer, fit?: boolean) {
  return uploadOperation(stack.url, GENERATE, { file: null, fit }, { variablePath: 'variables.file', bytes });
}

describe('oversized inputs (#14)', () => {
  it('fits a 6000×4000 PNG to 4096 px and the task succeeds', async ({ stack }) => {
    const answer = await upload(stack, await transparentPng(6000, 4000));
    expect(answer.body.errors).toBeUndefined();
    const { id } = (answer.body.data as { generateBackground: { id: string } }).generateBackground;
    const done = await eventually(async () => {
      const read = await stack.gql<{ backgroundTask: { state: string } }>(TASK, { id });
      const state = read.body.data!.backgroundTask.state;
      return state === 'SUCCEEDED' || state === 'FAILED' ? state : undefined;
    }, 30_000);
    expect(done).toBe('SUCCEEDED');
  });

  it('refuses the same PNG as IMAGE_TOO_LARGE when the input says fit: false', async ({ stack }) => {
    const answer = await upload(stack, await transparentPng(6000, 4000), false);
    expect(answer.body.errors?.[0]?.extensions?.reason).toBe('IMAGE_TOO_LARGE');
  });

  it('still refuses a side under 256 px', async ({ stack }) => {
    const answer = await upload(stack, await transparentPng(300, 200));
    expect(answer.body.errors?.[0]?.extensions?.reason).toBe('IMAGE_TOO_SMALL');
  });

  it('refuses an all-transparent PNG as EMPTY_FOREGROUND', async ({ stack }) => {
    const empty = await sharp({
      create: { width: 512, height: 512, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    })
      .png()
      .toBuffer();
    const answer = await upload(stack, empty);
    expect(answer.body.errors?.[0]?.extensions?.reason).toBe('EMPTY_FOREGROUND');
  });
});

describe('fitSpooledImage', () => {
  it('keeps the aspect ratio and the alpha channel while fitting sides and bytes', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fit-')), 'in.png');
    const source = await transparentPng(6000, 4000);
    await sharp(source).toFile(path);
    const facts = {
      path,
      width: 6000,
      height: 4000,
      bytes: source.length,
      sha256: 'x',
      bitDepth: 8,
      colorType: 6,
      hasAlpha: true,
      hasTrns: false,
    };
    const fitted = await fitSpooledImage(facts, PICWISH_PNG_LIMITS);
    expect(fitted.ok && [fitted.value.width, fitted.value.height]).toEqual([4096, 2730]);
    const metadata = await sharp(path).metadata();
    expect([metadata.width, metadata.height, metadata.hasAlpha]).toEqual([4096, 2730, true]);

    const second = join(mkdtempSync(join(tmpdir(), 'fit-')), 'in.png');
    await copyFile(path, second);
    const tight = { ...PICWISH_PNG_LIMITS, maxBytes: 8_000 };
    const squeezed = await fitSpooledImage(
      { ...facts, path: second, width: 4096, height: 2730, bytes: 100_000 },
      tight,
    );
    expect(squeezed.ok && squeezed.value.bytes).toBeLessThanOrEqual(8_000);
  });
});
