import { isTerminal, type Task } from './model.js';

/**
 * What a task costs in PicWish credits, so a product can show "this costs 6 credits" before the
 * user clicks and what was spent afterwards (issue #15). PicWish charges per generated image
 * (`PICWISH_CREDITS_PER_IMAGE`, 3 by default).
 */
export function estimatedCredits(task: Pick<Task, 'batchSize' | 'cutout'>, perImage: number): number {
  return task.batchSize * perImage + (task.cutout ? CUTOUT_CREDITS : 0);
}

/**
 * What PicWish charges for one successful background removal (`removeBackground`, #14): about 1
 * credit per its public price table (/work/shared/upstream/segmentation.md). Charged once the
 * cutout came back, whatever happens to the generation after it.
 */
export const CUTOUT_CREDITS = 1;

/** What `images` generated images cost: the one price rule, for a task and for a period's usage. */
export function creditsForImages(images: number, perImage: number): number {
  return images * perImage;
}

/**
 * The credits a final task spent: one charge per image it produced, none for a failed or cancelled
 * generation (PicWish charges results, not attempts), plus the cutout once it was stored. Null
 * while the task can still change.
 */
export function creditsCharged(
  task: Pick<Task, 'state' | 'images' | 'cutout'>,
  perImage: number,
): number | null {
  if (!isTerminal(task.state)) return null;
  const cutout = task.cutout?.status === 'stored' ? CUTOUT_CREDITS : 0;
  return (task.state === 'SUCCEEDED' ? creditsForImages(task.images.length, perImage) : 0) + cutout;
}
