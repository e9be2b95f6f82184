import { err, ok, type Result } from '../shared/result.js';
import { badInput, type GatewayError } from './errors.js';
import type { TaskState } from './model.js';

/** `viewer.usage` without `from`: the 24 hours before `to` — "today" without a time zone to argue about. */
export const DEFAULT_USAGE_PERIOD_MS = 24 * 60 * 60 * 1000;

/** A half-open span of time, `[from, to)`, in epoch milliseconds. */
export interface UsagePeriod {
  readonly from: number;
  readonly to: number;
}

/**
 * What a tenant's tasks created in a period came to (issue #15): how many stand in each state now,
 * and what PicWish charged them for — the sums of each task's chargedUnits (core/credits.ts):
 * the images the SUCCEEDED ones produced and the cutouts that came back.
 */
export interface TaskUsage {
  readonly byState: Readonly<Record<TaskState, number>>;
  readonly imagesGenerated: number;
  readonly cutouts: number;
}

/** A tally with nothing in it, for stores to count into. */
export function emptyUsage(): {
  byState: Record<TaskState, number>;
  imagesGenerated: number;
  cutouts: number;
} {
  return {
    byState: { QUEUED: 0, PROCESSING: 0, SUCCEEDED: 0, FAILED: 0, CANCELLED: 0 },
    imagesGenerated: 0,
    cutouts: 0,
  };
}

/**
 * The period `viewer.usage(from:, to:)` asks for: `to` defaults to now, `from` to 24 hours before
 * `to`. A period that ends before it starts (or is empty) is refused as INVALID_PERIOD.
 */
export function usagePeriod(
  from: Date | null,
  to: Date | null,
  now: number,
): Result<UsagePeriod, GatewayError> {
  const end = to?.getTime() ?? now;
  const start = from?.getTime() ?? end - DEFAULT_USAGE_PERIOD_MS;
  if (start >= end) {
    return err(badInput('INVALID_PERIOD', from ? ['from'] : ['to'], '`from` must be before `to`.'));
  }
  return ok({ from: start, to: end });
}
