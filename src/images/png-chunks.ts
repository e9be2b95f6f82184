import { type ImageProblem, problem } from './problems.js';

const SIGNATURE_BYTES = 8;
const CHUNK_HEADER_BYTES = 8;
const CRC_BYTES = 4;

/** APNG's chunks: an animated PNG decodes as its first frame only, which is not what was sent. */
const ANIMATION_CHUNKS = new Set(['acTL', 'fcTL', 'fdAT']);

/**
 * Walks every chunk of a PNG as its bytes stream by, counting past each body (it holds at most one
 * 8-byte chunk header), and refuses what the header checks (png-header.ts) cannot see because it
 * comes later: an IHDR anywhere but first, an animated PNG (APNG), IDAT after IEND, any byte after
 * IEND, and a file that ends without IEND. Such files decode differently in different decoders,
 * so what the gateway checked would not be what PicWish sees.
 */
export class PngChunkWalker {
  #signatureLeft = SIGNATURE_BYTES;
  #header = new Uint8Array(CHUNK_HEADER_BYTES);
  #headerLength = 0;
  #skip = 0;
  #chunks = 0;
  #ended = false;
  #problem: ImageProblem | undefined;

  /** Feeds the next bytes; the first problem found, once certain. */
  push(bytes: Uint8Array): ImageProblem | undefined {
    let offset = 0;
    while (this.#problem === undefined && offset < bytes.length) {
      if (this.#ended) {
        this.#problem = corrupt('there are bytes after its IEND chunk');
        break;
      }
      if (this.#signatureLeft > 0) {
        const taken = Math.min(this.#signatureLeft, bytes.length - offset);
        this.#signatureLeft -= taken;
        offset += taken;
      } else if (this.#skip > 0) {
        const taken = Math.min(this.#skip, bytes.length - offset);
        this.#skip -= taken;
        offset += taken;
        if (this.#skip === 0 && this.#headerType() === 'IEND') this.#ended = true;
      } else {
        const taken = Math.min(CHUNK_HEADER_BYTES - this.#headerLength, bytes.length - offset);
        this.#header.set(bytes.subarray(offset, offset + taken), this.#headerLength);
        this.#headerLength += taken;
        offset += taken;
        if (this.#headerLength === CHUNK_HEADER_BYTES) this.#readHeader();
      }
    }
    return this.#problem;
  }

  /** The verdict at the end of the file. */
  finish(): ImageProblem | undefined {
    if (this.#problem) return this.#problem;
    if (!this.#ended) {
      return problem(
        'CORRUPT_IMAGE',
        'The PNG does not end with its IEND chunk: the file is cut short or damaged.',
      );
    }
    return undefined;
  }

  #readHeader(): void {
    this.#headerLength = 0;
    const length = new DataView(this.#header.buffer).getUint32(0);
    const type = this.#headerType();
    this.#chunks += 1;
    if (type === 'IHDR' && this.#chunks > 1)
      this.#problem = corrupt('an IHDR chunk appears after the first chunk');
    else if (ANIMATION_CHUNKS.has(type)) {
      this.#problem = problem(
        'UNSUPPORTED_IMAGE_FORMAT',
        'The PNG is animated (APNG); send a still PNG (one frame).',
      );
    } else if (type === 'IEND' && length !== 0) this.#problem = corrupt('its IEND chunk is not empty');
    // The body and its CRC are skipped; IEND's 4-byte CRC included, so `#ended` is set once it passed.
    this.#skip = length + CRC_BYTES;
  }

  #headerType(): string {
    return String.fromCharCode(this.#header[4]!, this.#header[5]!, this.#header[6]!, this.#header[7]!);
  }
}

function corrupt(detail: string): ImageProblem {
  return problem('CORRUPT_IMAGE', `The PNG is damaged: ${detail}.`);
}
