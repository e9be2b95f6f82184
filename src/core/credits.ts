import { isTerminal, type Task } from './model.js';

/**
 * What a task costs in PicWish credits, so a product can show "this costs 6 credits" before the
 * user clicks and what was spent afterwards (issue #15). PicWish charges per generated image
 * (`PICWISH_CREDITS_PER_IMAGE`, 3 by default).
 */
export function estimatedCredits(task: Pick<Task, 'batchSize'>, perImage: number): number {
  return task.batchSize * perImage;
}

/** What `images` generated images cost: the one price rule, for a task and for a period's usage. */
export function creditsForImages(images: number, perImage: number): number {
  return images * perImage;
}

/**
 * The credits a final task spent: one charge per image it produced, none for a failed or cancelled
 * task (PicWish charges results, not attempts). Null while the task can still change.
 */
export function creditsCharged(task: Pick<Task, 'state' | 'images'>, perImage: number): number | null {
  if (!isTerminal(task.state)) return null;
  return task.state === 'SUCCEEDED' ? creditsForImages(task.images.length, perImage) : 0;
}
