// What the page checks before it uploads anything, in the gateway's own words and reasons, so a
// person hears every problem at once without waiting for an upload. The limits are the gateway's
// (src/images/limits.ts, src/images/fit.ts, src/core/validation.ts); the gateway checks them again.

const MAX_BYTES = 20 * 1024 * 1024;
const MIN_SIDE = 256;
/** Larger images are fitted down by the gateway; past this it refuses them. */
const MAX_SIDE = 12_000;
const MAX_PROMPT_LENGTH = 1024;
const PHOTO_TYPES = ['image/jpeg', 'image/webp'];

/** The pixel size of an image file, or null when the browser cannot read it (the gateway will say why). */
async function pixelSize(file) {
  try {
    const bitmap = await createImageBitmap(file);
    const size = { width: bitmap.width, height: bitmap.height };
    bitmap.close();
    return size;
  } catch {
    return null;
  }
}

/**
 * Every problem of the form's input: `[{ field: 'image' | 'prompt', reason, message }]`, empty when
 * it may be sent. `file` is null for a URL (the gateway fetches and checks it).
 */
export async function checkBeforeUpload({ file, removeBackground, prompt }) {
  const problems = [];
  if (file) {
    const type = file.type;
    if (type !== 'image/png' && !PHOTO_TYPES.includes(type)) {
      problems.push({
        field: 'image',
        reason: 'UNSUPPORTED_IMAGE_FORMAT',
        message: `The file is ${type || 'of an unknown type'}; choose a PNG with a transparent background, or a JPEG, PNG or WebP photo with “Remove the background first”.`,
      });
    } else if (PHOTO_TYPES.includes(type) && !removeBackground) {
      problems.push({
        field: 'image',
        reason: 'NOT_PNG',
        message:
          'A JPEG or WebP has no transparency: tick “Remove the background first”, or choose a transparent PNG.',
      });
    }
    if (file.size > MAX_BYTES) {
      problems.push({
        field: 'image',
        reason: 'FILE_TOO_LARGE',
        message: `The file is ${(file.size / (1024 * 1024)).toFixed(1)} MB; the limit is 20 MB.`,
      });
    } else if (problems.length === 0) {
      const size = await pixelSize(file);
      if (size && (size.width < MIN_SIDE || size.height < MIN_SIDE)) {
        problems.push({
          field: 'image',
          reason: 'IMAGE_TOO_SMALL',
          message: `The image is ${size.width}×${size.height} px; each side must be at least ${MIN_SIDE} px.`,
        });
      } else if (size && (size.width > MAX_SIDE || size.height > MAX_SIDE)) {
        problems.push({
          field: 'image',
          reason: 'IMAGE_TOO_LARGE',
          message: `The image is ${size.width}×${size.height} px; each side must be at most ${MAX_SIDE} px.`,
        });
      }
    }
  }
  const length = [...(prompt ?? '')].length;
  if (length > MAX_PROMPT_LENGTH) {
    problems.push({
      field: 'prompt',
      reason: 'PROMPT_TOO_LONG',
      message: `The prompt has ${length} characters; at most ${MAX_PROMPT_LENGTH} are allowed.`,
    });
  }
  return problems;
}
