import { Readable } from 'node:stream';
import type { Result } from '../shared/result.js';
import { guardBody, type OutboundBody } from './body.js';
import type { GuardedFetcher, OpenOptions } from './guarded-fetcher.js';
import type { OutboundProblem } from './problems.js';

/**
 * The origin that names the gateway's own sample images in an image URL:
 * `https://gateway.invalid/samples/product.png`. `.invalid` is reserved (RFC 2606) and never
 * resolves, so the name cannot shadow anybody's server.
 */
export const SAMPLE_ORIGIN = 'https://gateway.invalid';

/** Samples never take longer than this to hand over (they are in memory); a bound all the same. */
const SAMPLE_TIMEOUT_MS = 10_000;

/**
 * The image-URL fetcher with the gateway's own samples answered in-process: exactly
 * `SAMPLE_ORIGIN` + a path of `samples`, and nothing else, is served from memory, with the same
 * size cap and type check as a fetched body; every other URL (other paths on that origin
 * included) goes to the guarded fetcher and its address policy unchanged. So GraphiQL's example
 * runs offline and loopback stays closed unless IMAGE_URL_ALLOW_PRIVATE opens it.
 */
export function withSampleImages(
  fetcher: Pick<GuardedFetcher, 'open'>,
  samples: ReadonlyMap<string, () => Promise<Buffer>>,
  maxBytes: number,
): Pick<GuardedFetcher, 'open'> {
  return {
    async open(rawUrl: string, options: OpenOptions = {}): Promise<Result<OutboundBody, OutboundProblem>> {
      const sample = sampleOf(rawUrl, samples);
      if (!sample) return fetcher.open(rawUrl, options);
      const bytes = await sample();
      return guardBody(Readable.from([bytes]), rawUrl, {
        maxBytes,
        expectImage: options.expectImage ?? false,
        timeoutMs: SAMPLE_TIMEOUT_MS,
        timedOut: () => false,
      });
    },
  };
}

function sampleOf(
  rawUrl: string,
  samples: ReadonlyMap<string, () => Promise<Buffer>>,
): (() => Promise<Buffer>) | null {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return null;
  }
  if (url.origin !== SAMPLE_ORIGIN || url.search || url.hash) return null;
  return samples.get(url.pathname) ?? null;
}
