/**
 * The image checks the gateway runs before it spends an upstream request, behind one import path so
 * callers do not depend on how `src/images` is split into files.
 */

export { spoolAndInspectPng } from './inspect.js';
export { PICWISH_PNG_LIMITS, type PngLimits } from './limits.js';
export { type SpooledPhoto, spoolAndInspectPhoto } from './photo.js';
export { type PngFacts, readPngHeader } from './png-header.js';
export { type SpooledPng, spoolPng } from './png-spool.js';
export {
  IMAGE_PROBLEM_REASONS,
  type ImageProblem,
  type ImageProblemReason,
  REMOVE_BACKGROUND_HINT,
} from './problems.js';
export { SAMPLE_IMAGES } from './samples.js';
export type { ByteSource } from './spool-stream.js';
export { checkDecodedTransparency } from './transparency.js';
