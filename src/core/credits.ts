import { isTerminal, type Task } from './model.js';

/**
 * What PicWish charges, in credits (issue #15): per generated image (`PICWISH_CREDITS_PER_IMAGE`,
 * 3 by default) and per successful background removal (`PICWISH_CUTOUT_CREDITS`, #14: about 1
 * per its public price table, /work/shared/upstream/segmentation.md). One value, so a task's
 * figures, `viewer.usage` and `/metrics` price alike.
 */
export interface CreditPrices {
  readonly perImage: number;
  readonly cutout: number;
}

/**
 * What PicWish charged a task for so far, in units: the images of a SUCCEEDED task (it charges
 * results, not attempts) and its cutout once stored (charged when it came back, whatever follows).
 * The stores keep these as columns so `viewer.usage` sums them without opening documents.
 */
export interface ChargedUnits {
  readonly images: number;
  readonly cutouts: number;
}

/** The one rule for what a task was charged for: every figure that counts credits starts here. */
export function chargedUnits(task: Pick<Task, 'state' | 'images' | 'cutout'>): ChargedUnits {
  return {
    images: task.state === 'SUCCEEDED' ? task.images.length : 0,
    cutouts: task.cutout?.status === 'stored' ? 1 : 0,
  };
}

/** What `units` cost at `prices`: for a task, and for a period's usage summed in the store. */
export function creditsFor(units: ChargedUnits, prices: CreditPrices): number {
  return units.images * prices.perImage + units.cutouts * prices.cutout;
}

/**
 * What a task costs in PicWish credits if it succeeds, so a product can show "this costs 6
 * credits" before the user clicks.
 */
export function estimatedCredits(task: Pick<Task, 'batchSize' | 'cutout'>, prices: CreditPrices): number {
  return creditsFor({ images: task.batchSize, cutouts: task.cutout ? 1 : 0 }, prices);
}

/** The credits a final task spent (chargedUnits at `prices`); null while the task can still change. */
export function creditsCharged(
  task: Pick<Task, 'state' | 'images' | 'cutout'>,
  prices: CreditPrices,
): number | null {
  return isTerminal(task.state) ? creditsFor(chargedUnits(task), prices) : null;
}
