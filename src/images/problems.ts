/** Every reason, so callers and tests can tell a known refusal from anything else. */
export const IMAGE_PROBLEM_REASONS = [
  'NOT_PNG',
  'CORRUPT_IMAGE',
  'NOT_TRANSPARENT',
  'NO_TRANSPARENT_PIXEL',
  'EMPTY_FOREGROUND',
  'IMAGE_TOO_SMALL',
  'IMAGE_TOO_LARGE',
  'FILE_TOO_LARGE',
  'EMPTY_FILE',
  'UNSUPPORTED_IMAGE_FORMAT',
] as const;

/** Stable machine-readable reasons (they become GraphQL `extensions.reason`). */
export type ImageProblemReason = (typeof IMAGE_PROBLEM_REASONS)[number];

/**
 * Why an image was refused before it cost an upstream request: `reason` is for machines, `message`
 * is shown to the person who uploaded it and names the limit and the value that broke it.
 */
export interface ImageProblem {
  reason: ImageProblemReason;
  message: string;
}

/**
 * What a refusal of an opaque or non-PNG foreground adds: the way to use such an image anyway.
 * Those refusals only happen without `removeBackground`, which takes JPEG, PNG and WebP photos.
 */
export const REMOVE_BACKGROUND_HINT =
  'To use a photo with its background (JPEG, PNG or WebP), send removeBackground: true and the background is removed first.';

/** Builds a problem in one expression, so checks read as `return err(problem(...))`. */
export function problem(reason: ImageProblemReason, message: string): ImageProblem {
  return { reason, message };
}
