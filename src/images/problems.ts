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

/** Builds a problem in one expression, so checks read as `return err(problem(...))`. */
export function problem(reason: ImageProblemReason, message: string): ImageProblem {
  return { reason, message };
}
