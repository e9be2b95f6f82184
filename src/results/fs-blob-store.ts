import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { type BlobInfo, type BlobStore, blobEtag, isValidBlobKey } from './blob-store.js';

/**
 * The default blob store: files under `DATA_DIR/blobs`. A write goes to a temporary file first
 * and is renamed into place, so a crash never leaves half an image under a real key. The content
 * type sits beside each blob in a small `.type` file, since the file system has no metadata.
 */
export class FsBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  #path(key: string): string {
    if (!isValidBlobKey(key)) throw new Error(`invalid blob key ${JSON.stringify(key)}`);
    const path = normalize(join(this.root, key));
    if (!path.startsWith(this.root + sep)) throw new Error('blob key escapes the store');
    return path;
  }

  async put(key: string, data: Uint8Array, contentType: string): Promise<BlobInfo> {
    const path = this.#path(key);
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(temp, data);
      await writeFile(`${path}.type`, contentType);
      await rename(temp, path);
    } catch (error) {
      // A full disk or a failed rename must not leave a temporary file nothing would ever remove.
      await rm(temp, { force: true });
      throw error;
    }
    return { key, bytes: data.byteLength, contentType, etag: blobEtag(key) };
  }

  async stat(key: string): Promise<BlobInfo | null> {
    let path: string;
    try {
      path = this.#path(key);
    } catch {
      return null;
    }
    try {
      const [info, type] = await Promise.all([stat(path), readFile(`${path}.type`, 'utf8')]);
      if (!info.isFile()) return null;
      return { key, bytes: info.size, contentType: type, etag: blobEtag(key) };
    } catch {
      return null;
    }
  }

  read(key: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.#path(key), range ? { start: range.start, end: range.end } : {});
  }

  async deletePrefix(prefix: string): Promise<void> {
    const dir = this.#path(prefix.replace(/\/+$/, ''));
    // A rendition being stored meanwhile adds a file while rm empties the folder (ENOTEMPTY):
    // rm tries again, and the rendition removes itself once it sees its original gone.
    await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  }
}
