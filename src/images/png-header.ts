import { crc32 } from 'node:zlib';
import { err, ok, type Result } from '../shared/result.js';
import { type ImageProblem, problem, REMOVE_BACKGROUND_HINT } from './problems.js';

/** What the bytes before the first IDAT say about a PNG: enough to refuse it before any pixel arrives. */
export interface PngFacts {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  /** Adam7-interlaced: decoded as a whole frame at once, never row by row. */
  interlaced: boolean;
  /** True when decoding yields an alpha channel: colour type 4 or 6, or any colour type with tRNS. */
  hasAlpha: boolean;
  hasTrns: boolean;
}

/** The IHDR fields, known (and checkable against size limits) long before the chunk walk reaches IDAT. */
export type PngDimensions = Pick<PngFacts, 'width' | 'height' | 'bitDepth' | 'colorType' | 'interlaced'>;

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
const CHUNK_HEADER_BYTES = 8;
const CRC_BYTES = 4;
const IHDR_DATA_BYTES = 13;
const IHDR_CHUNK_BYTES = CHUNK_HEADER_BYTES + IHDR_DATA_BYTES + CRC_BYTES;
const MAX_PNG_INT = 0x7fffffff;

/** Bit depths the PNG spec allows per colour type; anything else is a damaged or hostile header. */
const BIT_DEPTHS: Readonly<Record<number, readonly number[]>> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};

/** Magic numbers of formats people upload by mistake, so NOT_PNG can say what the file looks like. */
const LOOKALIKES: readonly { name: string; magic: readonly number[] }[] = [
  { name: 'a JPEG', magic: [0xff, 0xd8, 0xff] },
  { name: 'a GIF', magic: [0x47, 0x49, 0x46, 0x38] },
  { name: 'a RIFF file such as WebP', magic: [0x52, 0x49, 0x46, 0x46] },
];

type Stage = 'signature' | 'ihdr' | 'chunk-header' | 'chunk-body';

/**
 * Incremental reader of signature, IHDR and the chunk walk up to the first IDAT. It exists so a
 * stream can be judged chunk by chunk without keeping a prefix: it holds at most one IHDR (25
 * bytes) and skips every other chunk body by counting, however large the metadata before IDAT is.
 */
export class PngHeaderScanner {
  #stage: Stage = 'signature';
  #pending = new Uint8Array(IHDR_CHUNK_BYTES);
  #pendingLength = 0;
  #skip = 0;
  #seen = 0;
  #dimensions: PngDimensions | undefined;
  #hasTrns = false;
  #outcome: Result<PngFacts, ImageProblem> | undefined;

  /** The IHDR fields once they have arrived, so size limits can be applied before the walk ends. */
  get dimensions(): PngDimensions | undefined {
    return this.#dimensions;
  }

  /** Feeds the next bytes; 'incomplete' until the first IDAT is reached or a problem is certain. */
  push(bytes: Uint8Array): Result<PngFacts, ImageProblem> | 'incomplete' {
    let offset = 0;
    while (this.#outcome === undefined && offset < bytes.length) {
      offset = this.#step(bytes, offset);
    }
    this.#seen += offset;
    return this.#outcome ?? 'incomplete';
  }

  /** The verdict when the input ends here: a PNG that stops before its first IDAT is not usable. */
  finish(): Result<PngFacts, ImageProblem> {
    if (this.#outcome !== undefined) return this.#outcome;
    if (this.#seen === 0) return err(problem('EMPTY_FILE', 'The file is empty (0 bytes).'));
    const where =
      this.#stage === 'signature' || this.#stage === 'ihdr'
        ? 'before its header (IHDR) is complete'
        : 'before any image data (IDAT)';
    return err(problem('CORRUPT_IMAGE', `The PNG ends after ${this.#seen} bytes, ${where}.`));
  }

  #step(bytes: Uint8Array, offset: number): number {
    switch (this.#stage) {
      case 'signature':
        return this.#readSignature(bytes, offset);
      case 'ihdr':
        return this.#collect(bytes, offset, IHDR_CHUNK_BYTES, () => this.#readIhdr());
      case 'chunk-header':
        return this.#collect(bytes, offset, CHUNK_HEADER_BYTES, () => this.#readChunkHeader());
      case 'chunk-body': {
        const taken = Math.min(this.#skip, bytes.length - offset);
        this.#skip -= taken;
        if (this.#skip === 0) this.#stage = 'chunk-header';
        return offset + taken;
      }
    }
  }

  /** Compares byte by byte, so a JPEG is refused from its very first byte. */
  #readSignature(bytes: Uint8Array, offset: number): number {
    let at = offset;
    while (at < bytes.length && this.#pendingLength < SIGNATURE.length) {
      const byte = bytes[at]!;
      this.#pending[this.#pendingLength++] = byte;
      at++;
      if (byte !== SIGNATURE[this.#pendingLength - 1]) {
        const seen = this.#pending.subarray(0, this.#pendingLength);
        const lookalike = LOOKALIKES.find(({ magic }) => startsWith(seen, magic));
        const looks = lookalike
          ? `it looks like ${lookalike.name}`
          : 'its first bytes are not the PNG signature';
        this.#outcome = err(
          problem(
            'NOT_PNG',
            `The file is not a PNG (${looks}); the foreground must be a transparent PNG. ${REMOVE_BACKGROUND_HINT}`,
          ),
        );
        return at;
      }
    }
    if (this.#pendingLength === SIGNATURE.length) this.#advance('ihdr');
    return at;
  }

  #collect(bytes: Uint8Array, offset: number, needed: number, complete: () => void): number {
    const taken = Math.min(needed - this.#pendingLength, bytes.length - offset);
    this.#pending.set(bytes.subarray(offset, offset + taken), this.#pendingLength);
    this.#pendingLength += taken;
    if (this.#pendingLength === needed) complete();
    return offset + taken;
  }

  #readIhdr(): void {
    const ihdr = parseIhdr(this.#pending);
    if (typeof ihdr === 'string') {
      this.#corrupt(ihdr);
    } else {
      this.#dimensions = ihdr;
      this.#advance('chunk-header');
    }
  }

  #readChunkHeader(): void {
    const length = new DataView(this.#pending.buffer, 0, CHUNK_HEADER_BYTES).getUint32(0);
    const type = chunkType(this.#pending);
    if (length > MAX_PNG_INT || !/^[A-Za-z]{4}$/.test(type)) {
      this.#corrupt('a chunk header is damaged');
    } else if (type === 'IHDR' || type === 'IEND') {
      this.#corrupt(`an ${type} chunk appears before any image data (IDAT)`);
    } else if (type === 'IDAT') {
      const dimensions = this.#dimensions!;
      const hasAlpha = dimensions.colorType === 4 || dimensions.colorType === 6 || this.#hasTrns;
      this.#outcome = ok({ ...dimensions, hasAlpha, hasTrns: this.#hasTrns });
    } else {
      this.#hasTrns ||= type === 'tRNS';
      this.#skip = length + CRC_BYTES;
      this.#advance('chunk-body');
    }
  }

  #advance(stage: Stage): void {
    this.#stage = stage;
    this.#pendingLength = 0;
  }

  #corrupt(detail: string): void {
    this.#outcome = err(problem('CORRUPT_IMAGE', `The PNG header is damaged: ${detail}.`));
  }
}

/**
 * Parses signature + IHDR (+ looks for tRNS before IDAT) from the first bytes; 'incomplete' when
 * more bytes are needed. The pure form of {@link PngHeaderScanner}, for bytes already in memory.
 */
export function readPngHeader(prefix: Uint8Array): Result<PngFacts, ImageProblem> | 'incomplete' {
  return new PngHeaderScanner().push(prefix);
}

/** The IHDR fields, or what is wrong with them; `chunk` holds the whole chunk from its length field to its CRC. */
function parseIhdr(chunk: Uint8Array): PngDimensions | string {
  const view = new DataView(chunk.buffer, chunk.byteOffset, IHDR_CHUNK_BYTES);
  if (view.getUint32(0) !== IHDR_DATA_BYTES || chunkType(chunk) !== 'IHDR') {
    return 'the first chunk is not a 13-byte IHDR';
  }
  const crcOffset = CHUNK_HEADER_BYTES + IHDR_DATA_BYTES;
  if (crc32(chunk.subarray(4, crcOffset)) !== view.getUint32(crcOffset)) {
    return 'the IHDR checksum does not match';
  }
  const width = view.getUint32(8);
  const height = view.getUint32(12);
  const bitDepth = view.getUint8(16);
  const colorType = view.getUint8(17);
  if (width === 0 || height === 0 || width > MAX_PNG_INT || height > MAX_PNG_INT) {
    return `the IHDR gives an impossible size of ${width}×${height} px`;
  }
  if (!BIT_DEPTHS[colorType]?.includes(bitDepth)) {
    return `the IHDR gives an invalid bit depth ${bitDepth} for colour type ${colorType}`;
  }
  if (view.getUint8(18) !== 0 || view.getUint8(19) !== 0 || view.getUint8(20) > 1) {
    return 'the IHDR names an unknown compression, filter or interlace method';
  }
  return { width, height, bitDepth, colorType, interlaced: view.getUint8(20) === 1 };
}

function chunkType(header: Uint8Array): string {
  return String.fromCharCode(header[4]!, header[5]!, header[6]!, header[7]!);
}

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return magic.every((byte, index) => index >= bytes.length || bytes[index] === byte);
}
