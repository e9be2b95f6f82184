import { PassThrough, type Readable } from 'node:stream';
import type { FileUpload } from 'graphql-upload-minimal';

/**
 * One upload of a multipart request that carries several (`generateBackgrounds`).
 * graphql-upload-minimal hands out the files as they arrive, one after the other, straight from
 * the request: a file's stream must be read to its end before the next one arrives. The image
 * checks stop reading a bad file early by destroying its stream, and a destroyed part stalls the
 * multipart parser for good (busboy waits for a read that never comes). So each item reads its
 * file through a stand-in: when the reader lets go early, the rest of the part is read and
 * dropped, and the next file flows; an item refused before it looked at its file drains it whole.
 * Nothing is buffered beyond the stream's own high-water mark.
 */
export interface BatchUpload {
  /** The file's bytes, for the item's image checks. */
  open(): Promise<Readable>;
  /** The item is done with its file, read or not: drain whatever was not read. */
  release(): void;
}

/** Wraps an `Upload` argument of a batch item (see `BatchUpload`). */
export function batchUpload(upload: Promise<FileUpload>): BatchUpload {
  let opened = false;
  return {
    async open() {
      opened = true;
      const source = (await upload).createReadStream() as unknown as Readable;
      return drainingStandIn(source);
    },
    release() {
      if (opened) return;
      opened = true;
      upload.then(
        (file) => {
          try {
            (file.createReadStream() as unknown as Readable).resume();
          } catch {
            // Over the size limit or mapped twice: nothing of it is left to read.
          }
        },
        () => undefined,
      );
    },
  };
}

/**
 * A stream that carries `source` to its reader. Fed with `data` listeners rather than `pipe`,
 * because graphql-upload-minimal unpipes a file that passed the size limit; the reader must
 * still see its end (and its size) to refuse it.
 */
function drainingStandIn(source: Readable): Readable {
  const standIn = new PassThrough();
  const onData = (chunk: Buffer) => {
    if (!standIn.write(chunk)) source.pause();
  };
  const onEnd = () => standIn.end();
  const onError = (error: Error) => standIn.destroy(error);
  source.on('data', onData);
  source.once('end', onEnd);
  source.once('error', onError);
  standIn.on('drain', () => source.resume());
  standIn.once('close', () => {
    if (source.readableEnded) return;
    // The reader let go early: drop the rest so the request's next file can arrive.
    source.off('data', onData);
    source.off('end', onEnd);
    source.resume();
  });
  return standIn;
}
