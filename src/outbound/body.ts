import { type Readable, Transform } from 'node:stream';
import { err, ok, type Result } from '../shared/result.js';
import { type OutboundProblem, outboundProblem } from './problems.js';
import { SNIFF_BYTES, type SniffedImageType, sniffImageType } from './sniff.js';

/** A response body the guarded fetcher let through, still streaming in. */
export interface OutboundBody {
  /** The URL the bytes come from, after redirects. */
  readonly url: string;
  /** The image format its first bytes show; null when the fetch did not ask for an image. */
  readonly type: SniffedImageType | null;
  /**
   * The bytes, never more than the cap. It fails (and the connection is dropped) when the cap,
   * the deadline or a broken connection stops it; destroying it drops the connection too.
   */
  readonly stream: Readable;
  /**
   * Why `stream` stopped early — too large, too slow, broken off — so a consumer that only saw a
   * stream error (the image checks call it an interrupted upload) can report the real cause. Null
   * while nothing went wrong, also after the consumer walked away on its own.
   */
  failure(): OutboundProblem | null;
}

/** What {@link guardBody} enforces and how it words its problems. */
export interface BodyGuardOptions {
  readonly maxBytes: number;
  readonly expectImage: boolean;
  readonly timeoutMs: number;
  /** True once the fetch's deadline has passed, to tell a timeout from a broken connection. */
  readonly timedOut: () => boolean;
}

/**
 * Puts the size cap and the type check on a response body, and resolves once the type is known
 * (at once when no image is expected): with an error when the first bytes are not an image, so a
 * caller never starts reading an HTML page into a spool file.
 */
export function guardBody(
  source: Readable,
  url: string,
  options: BodyGuardOptions,
): Promise<Result<OutboundBody, OutboundProblem>> {
  let failure: OutboundProblem | null = null;
  let seen = 0;
  let head: Buffer | null = options.expectImage ? Buffer.alloc(0) : null;
  let walkedAway = false;
  let settle: (verdict: Result<SniffedImageType | null, OutboundProblem>) => void = () => {};
  const sniffed = new Promise<Result<SniffedImageType | null, OutboundProblem>>((resolve) => {
    settle = resolve;
  });
  if (!options.expectImage) settle(ok(null));

  const fail = (problem: OutboundProblem): Error => {
    failure ??= problem;
    settle(err(failure));
    return new Error(failure.message);
  };
  const judge = (bytes: Buffer): Error | null => {
    const type = sniffImageType(bytes);
    if (type === null) return fail(notAnImage(bytes.length));
    settle(ok(type));
    return null;
  };
  const guard = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > options.maxBytes) return done(fail(tooLarge(options.maxBytes)));
      if (head === null) return done(null, chunk);
      head = Buffer.concat([head, chunk]);
      if (head.length < SNIFF_BYTES) return done();
      const bytes = head;
      head = null;
      const refusal = judge(bytes);
      return refusal ? done(refusal) : done(null, bytes);
    },
    flush(done) {
      if (head === null) return done();
      const bytes = head;
      head = null;
      const refusal = judge(bytes);
      return refusal ? done(refusal) : done(null, bytes);
    },
    destroy(error, done) {
      walkedAway = true;
      source.destroy();
      done(error);
    },
  });
  // The problem is reported through failure() and the sniff verdict; an 'error' nobody listens
  // to (a body refused before anyone read it) must not bring the process down.
  guard.on('error', () => {});
  source.on('error', () => {
    if (walkedAway) return;
    const problem = options.timedOut()
      ? timedOut(options.timeoutMs)
      : outboundProblem('URL_UNREACHABLE', `The connection broke off after ${seen} bytes.`);
    guard.destroy(fail(problem));
  });
  source.pipe(guard);

  return sniffed.then((verdict) =>
    verdict.ok ? ok({ url, type: verdict.value, stream: guard, failure: () => failure }) : verdict,
  );
}

/** Reads a whole (capped) body into memory, for callers that need the bytes at once. */
export async function readAll(body: OutboundBody): Promise<Result<Buffer, OutboundProblem>> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of body.stream) chunks.push(chunk as Buffer);
  } catch {
    return err(body.failure() ?? outboundProblem('URL_UNREACHABLE', 'The download broke off.'));
  }
  return ok(Buffer.concat(chunks));
}

/** URL_TOO_LARGE, for a declared length or a stream over the cap. */
export function tooLarge(maxBytes: number): OutboundProblem {
  const megabytes = Math.round((maxBytes / (1024 * 1024)) * 100) / 100;
  return outboundProblem('URL_TOO_LARGE', `The URL's content is larger than the ${megabytes} MB limit.`);
}

/** URL_TIMEOUT, for the whole fetch (redirects and body included). */
export function timedOut(timeoutMs: number): OutboundProblem {
  return outboundProblem('URL_TIMEOUT', `The URL did not deliver its content within ${timeoutMs / 1000} s.`);
}

function notAnImage(length: number): OutboundProblem {
  return outboundProblem(
    'NOT_AN_IMAGE',
    length === 0
      ? 'The URL answered with an empty body, not an image.'
      : 'The URL does not point at an image: its content does not start like any image format (whatever its Content-Type says).',
  );
}
