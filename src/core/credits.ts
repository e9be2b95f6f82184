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

/**
 * What a task holds against its owner's daily credit caps (#25): its estimate while it can still
 * be charged (reserved when it is created, so parallel creates cannot overshoot a cap together),
 * then what it was really charged once it is final (settled: a failure gives back what it did not
 * spend). The stores keep this per task in a row that deleting the task leaves in place, so
 * deleting tasks never gives credits back.
 */
export function heldUnits(task: Pick<Task, 'state' | 'images' | 'cutout' | 'batchSize'>): ChargedUnits {
  return isTerminal(task.state)
    ? chargedUnits(task)
    : { images: task.batchSize, cutouts: task.cutout ? 1 : 0 };
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The UTC calendar day of `ms` (days since 1970-01-01): credit caps count per calendar day in UTC,
 * each task on the day it was created, and every gateway of a cluster agrees on it.
 */
export function creditDay(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/** When the credit day of `ms` ends: the next midnight UTC, when the caps start afresh. */
export function creditDayEnd(ms: number): Date {
  return new Date((creditDay(ms) + 1) * DAY_MS);
}
