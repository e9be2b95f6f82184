import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { notModified } from './files-route.js';

/** A file whose name changes whenever its bytes do (a content hash in it). */
export interface ImmutableAsset {
  readonly body: Buffer;
  readonly contentType: string;
}

type Coding = 'br' | 'gzip';

const compress: Record<Coding, (body: Buffer) => Promise<Buffer>> = {
  // Quality 5 packs GraphiQL's 8 MB bundle to 1.9 MB in about half a second; 11 would save
  // another 0.2 MB for a minute of CPU.
  br: (body) =>
    promisify(brotliCompress)(body, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: body.length },
    }),
  gzip: (body) => promisify(gzip)(body),
};

/**
 * Serves content-hashed assets (GraphiQL's script bundle and style sheet) so a browser fetches
 * each once: `Cache-Control: public, max-age=31536000, immutable`, a strong ETag and 304s, and
 * the body brotli- or gzip-compressed as `Accept-Encoding` allows. Each encoding of each asset is
 * compressed once, off the event loop (zlib's thread pool), when it is first asked for, and kept:
 * never per request, and a gateway nobody opens GraphiQL on spends nothing. Returns a handler that
 * answers and returns true for its paths, false otherwise.
 */
export function createImmutableAssets(
  assets: ReadonlyMap<string, ImmutableAsset>,
): (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean> {
  const etags = new Map<string, string>();
  for (const [path, asset] of assets) {
    etags.set(path, createHash('sha256').update(asset.body).digest('base64url').slice(0, 27));
  }
  const encoded = new Map<string, Promise<Buffer>>();
  const encodedBody = (path: string, coding: Coding, body: Buffer): Promise<Buffer> => {
    const key = `${coding} ${path}`;
    let pending = encoded.get(key);
    if (!pending) {
      pending = compress[coding](body);
      encoded.set(key, pending);
      // A failed compression is tried again on the next request rather than kept.
      pending.catch(() => encoded.delete(key));
    }
    return pending;
  };
  return async (req, res, path) => {
    const asset = assets.get(path);
    const etag = etags.get(path);
    if (!asset || !etag) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return true;
    }
    const coding = preferredCoding(req.headers['accept-encoding']);
    // Each encoding is a representation of its own, with its own strong tag.
    const tag = coding ? `"${etag}-${coding}"` : `"${etag}"`;
    const headers: Record<string, string | number> = {
      'content-type': asset.contentType,
      'cache-control': 'public, max-age=31536000, immutable',
      etag: tag,
      vary: 'accept-encoding',
      'x-content-type-options': 'nosniff',
    };
    if (notModified(req, tag)) {
      res.writeHead(304, headers).end();
      return true;
    }
    const body = coding ? await encodedBody(path, coding, asset.body) : asset.body;
    if (coding) headers['content-encoding'] = coding;
    headers['content-length'] = body.length;
    res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}

/**
 * The coding to answer with: brotli, else gzip, as long as `Accept-Encoding` does not refuse it
 * (`q=0`); null for identity. Two codings with fixed preference need only this much of the
 * header's grammar: a name (or `*`) and its q-value.
 */
export function preferredCoding(header: string | string[] | undefined): Coding | null {
  const accepted = new Map<string, number>();
  for (const part of (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    accepted.set(name, q === undefined ? 1 : Number(q));
  }
  const wildcard = accepted.get('*') ?? 0;
  for (const coding of ['br', 'gzip'] as const) if ((accepted.get(coding) ?? wildcard) > 0) return coding;
  return null;
}
