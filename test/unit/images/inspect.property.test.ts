import { createHash } from 'node:crypto';
import { access, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGE_PROBLEM_REASONS, readPngHeader, spoolAndInspectPng } from '../../../src/images/index.js';
import { PngHeaderScanner } from '../../../src/images/png-header.js';

const RUNS = { numRuns: 150, timeout: 5_000 };
const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number };

/** Positions favour the first 64 bytes, where signature, IHDR and the first chunk headers live. */
const position = fc.oneof(fc.nat(63), fc.nat());

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('truncate' as const), at: position }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: position,
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: position, count: fc.integer({ min: 1, max: 16 }) }),
);

function mutate(original: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let bytes = Uint8Array.from(original);
  for (const change of mutations) {
    const at = bytes.length === 0 ? 0 : change.at % bytes.length;
    if (change.kind === 'flip' && bytes.length > 0) bytes[at]! ^= 1 << change.bit;
    if (change.kind === 'truncate') bytes = bytes.slice(0, at);
    if (change.kind === 'insert')
      bytes = Uint8Array.from([...bytes.slice(0, at), ...change.bytes, ...bytes.slice(at)]);
    if (change.kind === 'delete')
      bytes = Uint8Array.from([...bytes.slice(0, at), ...bytes.slice(at + change.count)]);
  }
  return bytes;
}

/** Piece sizes for delivering bytes the way a network would: in chunks of any size. */
const pieceSizes = fc.array(fc.integer({ min: 1, max: 2048 }), { minLength: 1, maxLength: 8 });

function split(bytes: Uint8Array, sizes: readonly number[]): Buffer[] {
  const pieces: Buffer[] = [];
  for (let at = 0, index = 0; at < bytes.length; index++) {
    const size = sizes[index % sizes.length]!;
    pieces.push(Buffer.from(bytes.subarray(at, at + size)));
    at += size;
  }
  return pieces;
}

let dir: string;
let base: Uint8Array;
let runNumber = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'images-property-'));
  base = await sharp({
    create: { width: 256, height: 256, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
  })
    .composite([
      { input: { create: { width: 32, height: 32, channels: 4, background: 'blue' } }, top: 4, left: 4 },
    ])
    .png()
    .toBuffer();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * Runs one input through the whole pipeline and checks the invariants every outcome must keep;
 * returns the outcome without its path so two deliveries of the same bytes can be compared.
 */
async function inspectAndCheck(bytes: Uint8Array, sizes: readonly number[]): Promise<unknown> {
  runNumber += 1;
  const path = join(dir, `run-${runNumber}.png`);
  const result = await spoolAndInspectPng(Readable.from(split(bytes, sizes)), path);
  if (result.ok) {
    expect(await readFile(path)).toEqual(Buffer.from(bytes));
    expect(result.value.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(result.value.bytes).toBe(bytes.length);
    await rm(path);
    const { path: _path, ...facts } = result.value;
    return { ok: true, facts };
  }
  expect(IMAGE_PROBLEM_REASONS).toContain(result.error.reason);
  expect(result.error.message.length).toBeGreaterThan(0);
  expect(await exists(path)).toBe(false);
  return result;
}

describe('spoolAndInspectPng on hostile input', () => {
  it('answers random bytes with ok or a known problem, the same for any chunking, leaving no file', async () => {
    const ihdrStart = base.subarray(0, 33);
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 4096 }),
      fc.uint8Array({ maxLength: 4096 }).map((tail) => Uint8Array.from([...SIGNATURE, ...tail])),
      fc.uint8Array({ maxLength: 4096 }).map((tail) => Uint8Array.from([...ihdrStart, ...tail])),
    );
    await fc.assert(
      fc.asyncProperty(input, pieceSizes, async (bytes, sizes) => {
        const chunked = await inspectAndCheck(bytes, sizes);
        expect(await inspectAndCheck(bytes, [bytes.length || 1])).toEqual(chunked);
      }),
      RUNS,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('answers mutations of a valid transparent PNG with ok or a known problem, leaving no file', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        pieceSizes,
        async (changes, sizes) => {
          const bytes = mutate(base, changes);
          const chunked = await inspectAndCheck(bytes, sizes);
          expect(await inspectAndCheck(bytes, [bytes.length || 1])).toEqual(chunked);
        },
      ),
      RUNS,
    );
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('PngHeaderScanner', () => {
  it('reaches the same verdict fed in pieces as readPngHeader on the whole prefix', () => {
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 512 }),
      fc.array(mutation, { maxLength: 3 }).map((changes) => mutate(base, changes)),
    );
    fc.assert(
      fc.property(input, pieceSizes, (bytes, sizes) => {
        const scanner = new PngHeaderScanner();
        let verdict: ReturnType<typeof readPngHeader> = 'incomplete';
        for (const piece of split(bytes, sizes)) verdict = scanner.push(piece);
        expect(verdict).toEqual(readPngHeader(bytes));
      }),
      { numRuns: 300 },
    );
  });
});
