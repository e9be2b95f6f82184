import { FairQueue } from './fair-queue.js';
import { isChargedStep, type ScheduledStep } from './next-step.js';

/**
 * With due creates and due polls both waiting, this many polls go before each create: a poll of
 * a finished task completes it with one call, while a create only starts one. Creates still get a
 * third of the budget under any load.
 */
export const POLLS_PER_CREATE = 2;

/** A scheduled step and the task it belongs to. */
export interface Candidate {
  readonly id: string;
  readonly step: ScheduledStep;
}

/**
 * Who gets the next slot. Due steps first: the due create or background removal (`isChargedStep`)
 * the fair queue sends next (fair-queue.ts: by tenant, end user and lane; a charged step it does
 * not know, made without a flow, goes first, earliest due) and the earliest-due other step; with
 * both waiting they take turns (`POLLS_PER_CREATE` polls, then a create), so a burst of creates
 * cannot hold back polls of finished tasks, nor the reverse. Only when nothing is due, the step
 * whose early time came first (a poll on an otherwise idle slot). The turn-taking lives here,
 * apart from the loop, so the policy can be read and tested alone.
 */
export class SlotArbiter {
  /** Slots given to polls since the last create, so due creates and due polls take turns. */
  #pollsSinceCreate = POLLS_PER_CREATE;
  readonly #fair: FairQueue;

  constructor(fair: FairQueue = new FairQueue()) {
    this.#fair = fair;
  }

  /** The step to run now among `candidates` (none in flight), or null if none may run yet. */
  pick(candidates: Iterable<Candidate>, now: number): Candidate | null {
    let create: Candidate | null = null;
    let other: Candidate | null = null;
    let early: Candidate | null = null;
    const fairlyQueued = new Map<string, Candidate>();
    for (const candidate of candidates) {
      const { step } = candidate;
      if (step.dueAt <= now) {
        if (!isChargedStep(step.kind)) {
          if (!other || step.dueAt < other.step.dueAt) other = candidate;
        } else if (this.#fair.has(candidate.id)) fairlyQueued.set(candidate.id, candidate);
        else if (!create || step.dueAt < create.step.dueAt) create = candidate;
      } else if (step.earlyAt !== undefined && step.earlyAt <= now) {
        if (!early || step.earlyAt < (early.step.earlyAt as number)) early = candidate;
      }
    }
    if (!create && fairlyQueued.size > 0) {
      const next = this.#fair.pick((id) => fairlyQueued.has(id));
      create = next ? (fairlyQueued.get(next.id) ?? null) : null;
    }
    if (create && other) return this.#pollsSinceCreate >= POLLS_PER_CREATE ? create : other;
    return create ?? other ?? early;
  }

  /** A budget slot went to `chosen`: the next turn follows from it, and its flow is charged for it. */
  granted(chosen: Candidate): void {
    const charged = isChargedStep(chosen.step.kind);
    this.#pollsSinceCreate = charged ? 0 : this.#pollsSinceCreate + 1;
    if (charged) this.#fair.sent(chosen.id);
  }
}

/** When the first of `steps` becomes due or may run early; in at most a minute, to be safe. */
export function nextWakeAt(steps: Iterable<ScheduledStep>, now: number): number {
  let wake = now + 60_000;
  for (const step of steps) wake = Math.min(wake, step.earlyAt ?? step.dueAt, step.dueAt);
  return wake;
}
