import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PICWISH_PNG_LIMITS } from '../../../src/images/limits.js';
import { problem } from '../../../src/images/problems.js';
import { type SpoolObserver, spoolStream } from '../../../src/images/spool-stream.js';
import { err, ok } from '../../../src/shared/result.js';

/** The one spool loop (src/images/spool-stream.ts) with small observers standing in for a format's checks. */

const PIECES = Array.from({ length: 10 }, (_, index) => Buffer.from(`piece ${index} `));
const BAD = problem('CORRUPT_IMAGE', 'The test observer refuses this chunk.');

let dir: string;
let caseNumber = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-stream-test-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function destination(): string {
  caseNumber += 1;
  return join(dir, `upload-${caseNumber}.bin`);
}

/** A source that records how many pieces were pulled from it; it reads at most one piece ahead. */
function countedSource() {
  const counter = { pulled: 0 };
  async function* generate() {
    for (const piece of PIECES) {
      counter.pulled += 1;
      yield piece;
    }
  }
  return { source: Readable.from(generate(), { objectMode: false, highWaterMark: 1 }), counter };
}

/** Counts the chunks it sees; refuses the chunk numbered `refuseAt` (from 1), if given. */
function chunkCounter(refuseAt?: number): SpoolObserver<number> {
  let seen = 0;
  return {
    onChunk() {
      seen += 1;
      return seen === refuseAt ? BAD : undefined;
    },
    onEnd: () => ok(seen),
  };
}

describe('spoolStream', () => {
  it('writes exactly the bytes, with their count, SHA-256 and what the observer learned', async () => {
    const path = destination();
    const whole = Buffer.concat(PIECES);
    const result = await spoolStream(countedSource().source, path, PICWISH_PNG_LIMITS, chunkCounter());
    expect(result).toEqual(
      ok({
        path,
        bytes: whole.length,
        sha256: createHash('sha256').update(whole).digest('hex'),
        observed: PIECES.length,
      }),
    );
    expect(await readFile(path)).toEqual(whole);
  });

  it('stops at the chunk the observer refuses: nothing more pulled, source destroyed, no file left', async () => {
    const path = destination();
    const { source, counter } = countedSource();
    expect(await spoolStream(source, path, PICWISH_PNG_LIMITS, chunkCounter(2))).toEqual(err(BAD));
    expect(counter.pulled).toBeLessThanOrEqual(3);
    expect(source.destroyed).toBe(true);
    expect(await readdir(dir)).not.toContain(`upload-${caseNumber}.bin`);
  });

  it("removes the whole file when the observer's verdict at the end is a problem", async () => {
    const path = destination();
    const refusesAtEnd: SpoolObserver<never> = { onChunk: () => undefined, onEnd: () => err(BAD) };
    expect(await spoolStream(countedSource().source, path, PICWISH_PNG_LIMITS, refusesAtEnd)).toEqual(
      err(BAD),
    );
    expect(await readdir(dir)).not.toContain(`upload-${caseNumber}.bin`);
  });

  it('refuses one byte over maxBytes as FILE_TOO_LARGE, naming the limit, without reading on', async () => {
    const path = destination();
    const { source, counter } = countedSource();
    const limits = { ...PICWISH_PNG_LIMITS, maxBytes: PIECES[0]!.length + PIECES[1]!.length - 1 };
    const result = await spoolStream(source, path, limits, chunkCounter());
    expect(result).toEqual(
      err(problem('FILE_TOO_LARGE', `The file is larger than the 0 MB (${limits.maxBytes} bytes) limit.`)),
    );
    expect(counter.pulled).toBeLessThanOrEqual(3);
    expect(await readdir(dir)).not.toContain(`upload-${caseNumber}.bin`);
  });

  it('lets the observer judge a chunk before the byte cap counts it', async () => {
    const limits = { ...PICWISH_PNG_LIMITS, maxBytes: 1 };
    expect(await spoolStream(countedSource().source, destination(), limits, chunkCounter(1))).toEqual(
      err(BAD),
    );
  });

  it('rejects, destroying the source, when the file cannot be created', async () => {
    const { source } = countedSource();
    const path = join(dir, 'no-such-folder', 'upload.bin');
    await expect(spoolStream(source, path, PICWISH_PNG_LIMITS, chunkCounter())).rejects.toMatchObject({
      code: 'ENOENT',
    });
    expect(source.destroyed).toBe(true);
  });
});
