import { describe, expect, it } from 'vitest';
import { SAMPLE_IMAGES } from '../../../src/images/index.js';
import {
  type GuardedFetcher,
  readAll,
  SAMPLE_ORIGIN,
  withSampleImages,
} from '../../../src/outbound/index.js';
import { err } from '../../../src/shared/result.js';

/** The first-party samples answer in-process; every other URL still meets the guarded fetcher. */

function recordingFetcher(): { fetcher: Pick<GuardedFetcher, 'open'>; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    fetcher: {
      open: async (url) => {
        asked.push(url);
        return err({ reason: 'URL_NOT_ALLOWED', message: 'refused by the guard' });
      },
    },
  };
}

describe('withSampleImages', () => {
  it('serves the sample PNG without asking the guarded fetcher', async () => {
    const { fetcher, asked } = recordingFetcher();
    const opened = await withSampleImages(fetcher, SAMPLE_IMAGES, 1_000_000).open(
      `${SAMPLE_ORIGIN}/samples/product.png`,
      { expectImage: true },
    );
    expect(asked).toEqual([]);
    if (!opened.ok) throw new Error(opened.error.message);
    expect(opened.value.type).toBe('png');
    const bytes = await readAll(opened.value);
    if (!bytes.ok) throw new Error(bytes.error.message);
    expect(bytes.value.subarray(1, 4).toString('latin1')).toBe('PNG');
  });

  it('hands every other URL to the guarded fetcher: other paths, other hosts, queries, look-alikes', async () => {
    const { fetcher, asked } = recordingFetcher();
    const samples = withSampleImages(fetcher, SAMPLE_IMAGES, 1_000_000);
    const others = [
      `${SAMPLE_ORIGIN}/samples/other.png`,
      `${SAMPLE_ORIGIN}/metrics`,
      `${SAMPLE_ORIGIN}/samples/product.png?size=9`,
      'http://gateway.invalid/samples/product.png',
      'https://gateway.invalid.example.com/samples/product.png',
      'http://127.0.0.1:4000/samples/product.png',
    ];
    for (const url of others) {
      const opened = await samples.open(url, { expectImage: true });
      expect(opened.ok, url).toBe(false);
    }
    expect(asked).toEqual(others);
  });

  it('keeps the size cap of a fetched body', async () => {
    const { fetcher } = recordingFetcher();
    const opened = await withSampleImages(fetcher, SAMPLE_IMAGES, 100).open(
      `${SAMPLE_ORIGIN}/samples/product.png`,
      {
        expectImage: true,
      },
    );
    const read = opened.ok ? await readAll(opened.value) : opened;
    expect(read.ok).toBe(false);
    if (!read.ok) expect(read.error.reason).toBe('URL_TOO_LARGE');
  });
});
