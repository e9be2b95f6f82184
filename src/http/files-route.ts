import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { BlobInfo } from '../results/blob-store.js';
import type { Renditions } from '../results/renditions.js';
import type { UrlSigner } from '../results/signer.js';
import { AbandonedWork } from '../shared/fair-gate.js';

/**
 * `GET`/`HEAD /files/<key>?exp=&sig=`: stored results, for anyone holding a valid signed link.
 * Content never changes under a key (keys end in the content hash), so the answer is cacheable
 * as `immutable` for as long as the link lives, with a strong ETag, 304s and byte ranges.
 * `blobs` may make what it is asked for on first read (renditions, results/renditions.ts).
 */
export async function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  blobs: Pick<Renditions, 'stat' | 'read'>,
  signer: UrlSigner,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  const key = decodedKey(url.pathname.slice('/files/'.length));
  const exp = url.searchParams.get('exp');
  const verdict = key === null ? 'invalid' : signer.verify(key, exp, url.searchParams.get('sig'));
  if (key === null || verdict !== 'ok') {
    res
      .writeHead(403, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
      .end(
        verdict === 'expired'
          ? 'This link has expired; query the task again for a fresh one.\n'
          : 'Invalid signature.\n',
      );
    return;
  }
  // A rendition waits for its turn; if this client leaves first, it is not made for nobody.
  const gone = new AbortController();
  const leave = () => gone.abort();
  res.once('close', leave);
  let info: BlobInfo | null;
  try {
    info = await blobs.stat(key, gone.signal);
  } catch (error) {
    if (error instanceof AbandonedWork) return;
    throw error;
  } finally {
    res.off('close', leave);
  }
  if (!info) {
    res
      .writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
      .end('Not found.\n');
    return;
  }
  const maxAge = Math.max(0, Number(exp) - Math.floor(Date.now() / 1000));
  const headers: Record<string, string | number> = {
    'content-type': info.contentType,
    etag: info.etag,
    'cache-control': `private, max-age=${maxAge}, immutable`,
    'accept-ranges': 'bytes',
    'x-content-type-options': 'nosniff',
  };
  if (notModified(req, info.etag)) {
    res.writeHead(304, headers).end();
    return;
  }
  const range = parseRange(
    req.headers.range,
    info.bytes,
    req.headers['if-range'] as string | undefined,
    info.etag,
  );
  if (range === 'unsatisfiable') {
    res.writeHead(416, { ...headers, 'content-range': `bytes */${info.bytes}` }).end();
    return;
  }
  if (range) {
    headers['content-range'] = `bytes ${range.start}-${range.end}/${info.bytes}`;
    headers['content-length'] = range.end - range.start + 1;
    res.writeHead(206, headers);
  } else {
    headers['content-length'] = info.bytes;
    res.writeHead(200, headers);
  }
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  await pipeline(blobs.read(key, range ?? undefined), res).catch(() => res.destroy());
}

/** The key a link names, or null when its escapes are broken (a mangled link, not a server fault). */
function decodedKey(escaped: string): string | null {
  try {
    return decodeURIComponent(escaped);
  } catch {
    return null;
  }
}

/** One `bytes=` range (the only kind browsers send for images); several ranges get the whole file. */
function parseRange(
  header: string | undefined,
  size: number,
  ifRange: string | undefined,
  etag: string,
): { start: number; end: number } | 'unsatisfiable' | null {
  if (!header || (ifRange && ifRange !== etag)) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return null;
  const [, from, to] = match;
  let start: number;
  let end: number;
  if (from === '' && to === '') return null;
  if (from === '') {
    start = Math.max(0, size - Number(to));
    end = size - 1;
  } else {
    start = Number(from);
    end = to === '' ? size - 1 : Math.min(Number(to), size - 1);
  }
  if (start > end || start >= size) return 'unsatisfiable';
  return { start, end };
}

/** Whether the request's `If-None-Match` names `etag` (or `*`): the client's copy is current (304). */
export function notModified(req: IncomingMessage, etag: string): boolean {
  return (
    req.headers['if-none-match']?.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*') ?? false
  );
}
