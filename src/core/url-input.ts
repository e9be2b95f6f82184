import type { Readable } from 'node:stream';
import type { ImageProblem } from '../images/problems.js';
import type { GuardedFetcher } from '../outbound/index.js';
import { err, type Result } from '../shared/result.js';
import { badInput, type GatewayError } from './errors.js';

/** Where a fetched image goes: the same spool and checks as an upload. */
export type SpoolImage<T> = (body: Readable) => Promise<Result<T, ImageProblem>>;

/**
 * An image URL becomes an upload: fetched once through the guarded fetcher, streamed into the
 * spool with exactly the checks an uploaded file gets, and sent to PicWish as a file, so PicWish
 * never receives a URL nobody checked. A problem names the URL field and sends nothing upstream;
 * when the fetch itself stopped the stream (too large, too slow, broken off), that is the reason
 * given, not the "interrupted upload" the image checks see.
 */
export async function spoolImageUrl<T>(
  fetcher: Pick<GuardedFetcher, 'open'>,
  url: string,
  field: readonly string[],
  spool: SpoolImage<T>,
): Promise<Result<T, GatewayError>> {
  const opened = await fetcher.open(url, { expectImage: true });
  if (!opened.ok) return err(badInput(opened.error.reason, field, opened.error.message));
  const spooled = await spool(opened.value.stream);
  if (spooled.ok) return spooled;
  const cut = opened.value.failure();
  if (cut) return err(badInput(cut.reason, field, cut.message));
  // The cap of the image checks is the fetch's cap too: whichever saw it first, the URL is too large.
  const reason = spooled.error.reason === 'FILE_TOO_LARGE' ? 'URL_TOO_LARGE' : spooled.error.reason;
  return err(badInput(reason, field, spooled.error.message));
}
