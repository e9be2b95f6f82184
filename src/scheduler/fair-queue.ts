// A little over 300 lines on purpose: the whole policy (three levels, the pick, and the same pick
// played forward for positions) is one decision, kept in one pure file so it is read and tested as one.
import type { TaskPriority } from '../core/model.js';

/**
 * Within one flow with both lanes waiting, this many INTERACTIVE sends may pass its waiting BATCH
 * work in a row; the next send of the flow is then a BATCH one. So BATCH keeps at least
 * 1 / (INTERACTIVE_PER_BATCH + 1) — a fifth — of its flow's charged slots under any INTERACTIVE
 * load, and INTERACTIVE work overtakes everything else of its flow.
 */
export const INTERACTIVE_PER_BATCH = 4;

/** One waiting charged step (a create or a background removal) and the flow it belongs to. */
export interface FairItem {
  readonly id: string;
  readonly tenantId: string;
  /** The end user who made the task; null for a server key's tasks (one more flow of the tenant). */
  readonly subject: string | null;
  readonly lane: TaskPriority;
  /** Arrival order within a lane: the task's `createdAt` (ties: id). */
  readonly arrival: number;
}

/** The tenant's weight (`TENANT_WEIGHTS`, default 1); must be positive. */
export type TenantWeights = (tenantId: string) => number;

interface FlowClock {
  /** Service received so far, divided by the weight (virtual finish time of its last send). */
  vtime: number;
  /** Send number of its last send; -1 when never served (breaks ties: least recently served first). */
  lastSent: number;
}

interface SubjectState extends FlowClock {
  /** INTERACTIVE sends of this flow in a row while BATCH work of it waited. */
  interactiveRun: number;
}

interface TenantState extends FlowClock {
  /** The virtual clock of this tenant's subjects (start time of its last send). */
  clock: number;
  readonly subjects: Map<string, SubjectState>;
}

/** The clocks of the whole hierarchy, copied for a simulation. */
interface Clocks {
  clock: number;
  sent: number;
  readonly tenants: Map<string, TenantState>;
}

/** What one pick or simulation step chooses among: the waiting items grouped by flow and lane. */
type Lanes = { INTERACTIVE: FairItem[]; BATCH: FairItem[] };
type Grouped = Map<string, Map<string, Lanes>>;

const SERVER_FLOW = '\u0000server';

function subjectKey(item: FairItem): string {
  return item.subject ?? SERVER_FLOW;
}

function earlier(a: FairItem, b: FairItem): boolean {
  return a.arrival < b.arrival || (a.arrival === b.arrival && a.id < b.id);
}

/**
 * Weighted fair queuing of one PicWish key's charged steps (#25), hierarchical: tenants share the
 * key by weight, a tenant's end users (its `subject`s, plus one flow for its server-made tasks)
 * share the tenant's part equally, and within a flow INTERACTIVE goes before BATCH (which keeps
 * the share `INTERACTIVE_PER_BATCH` leaves it). Each level is start-time fair queuing: a flow's
 * virtual time grows by 1 / weight per send, the waiting flow with the smallest virtual time
 * (clamped up to its parent's clock, so an idle flow banks no credit) goes next, ties to the
 * least recently served. It is work-conserving — a lone flow gets every slot — and no waiting
 * flow starves: a newly waiting flow is sent within one send of every other waiting flow.
 *
 * Pure and synchronous, no clock of its own: the run loop asks `pick` who gets a granted slot
 * (among the items that are due) and tells `sent`; positions read `order`, the same policy played
 * forward over everything waiting.
 */
export class FairQueue {
  readonly #items = new Map<string, FairItem>();
  readonly #weightOf: TenantWeights;
  readonly #clocks: Clocks = { clock: 0, sent: 0, tenants: new Map() };
  #order: readonly string[] | null = null;
  #positions: Map<string, number> | null = null;
  #changes = 0;

  readonly #listeners = new Set<() => void>();

  constructor(weightOf: TenantWeights = () => 1) {
    this.#weightOf = weightOf;
  }

  /** `listener` hears of every change of the order (an item added, removed or sent) until the answer is called. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get size(): number {
    return this.#items.size;
  }

  has(id: string): boolean {
    return this.#items.has(id);
  }

  /** The waiting items, in no order. */
  items(): IterableIterator<FairItem> {
    return this.#items.values();
  }

  /** The item waits (again, e.g. after a 429) or its flow changed; its arrival keeps its place. */
  add(item: FairItem): void {
    this.#items.set(item.id, item);
    this.#changed();
  }

  /** The item no longer waits and was not sent (cancelled, failed, handed over, out of turn). */
  remove(id: string): void {
    if (this.#items.delete(id)) this.#changed();
  }

  /** Who gets the slot now among the waiting items `eligible` accepts (those due); null if none. */
  pick(eligible: (id: string) => boolean = () => true): FairItem | null {
    const grouped: Grouped = new Map();
    for (const item of this.#items.values()) if (eligible(item.id)) place(grouped, item, true);
    return choose(this.#clocks, grouped);
  }

  /** The item was sent on a slot: its flows are charged for it, and it no longer waits. */
  sent(id: string): void {
    const item = this.#items.get(id);
    if (!item) return;
    charge(this.#clocks, item, this.#weightOf, this.#laneWaiting(item, 'BATCH'));
    this.#items.delete(id);
    this.#changed();
  }

  /** Every waiting item's id in the order the policy sends them from now on, if all were due. */
  order(): readonly string[] {
    if (this.#order) return this.#order;
    const grouped: Grouped = new Map();
    for (const item of this.#items.values()) place(grouped, item, false);
    for (const subjects of grouped.values()) {
      for (const lanes of subjects.values()) {
        lanes.INTERACTIVE.sort((a, b) => (earlier(a, b) ? -1 : 1));
        lanes.BATCH.sort((a, b) => (earlier(a, b) ? -1 : 1));
      }
    }
    const clocks = copyClocks(this.#clocks);
    const order: string[] = [];
    for (;;) {
      const next = choose(clocks, grouped);
      if (!next) break;
      const lanes = grouped.get(next.tenantId)?.get(subjectKey(next)) as Lanes;
      charge(clocks, next, this.#weightOf, lanes.BATCH.length > (next.lane === 'BATCH' ? 1 : 0));
      lanes[next.lane].shift();
      prune(grouped, next);
      order.push(next.id);
    }
    this.#order = order;
    return order;
  }

  /** 1-based place of `id` in `order()`; null when it does not wait here. */
  position(id: string): number | null {
    if (!this.#items.has(id)) return null;
    if (!this.#positions) this.#positions = new Map(this.order().map((each, i) => [each, i + 1]));
    return this.#positions.get(id) ?? null;
  }

  #changed(): void {
    this.#order = null;
    this.#positions = null;
    if (++this.#changes % 256 === 0) this.#forgetIdle();
    for (const listener of this.#listeners) listener();
  }

  /**
   * Clocks of flows with nothing waiting and no lead over their parent's clock are dropped, so
   * the state stays as small as the queue: such a flow would restart at that clock anyway.
   */
  #forgetIdle(): void {
    const live = new Set<string>();
    for (const item of this.#items.values()) live.add(`${item.tenantId}\u0000${subjectKey(item)}`);
    for (const [tenantId, tenant] of this.#clocks.tenants) {
      for (const [key, flow] of tenant.subjects) {
        if (!live.has(`${tenantId}\u0000${key}`) && flow.vtime <= tenant.clock) tenant.subjects.delete(key);
      }
      if (tenant.subjects.size === 0 && tenant.vtime <= this.#clocks.clock)
        this.#clocks.tenants.delete(tenantId);
    }
  }

  #laneWaiting(item: FairItem, lane: TaskPriority): boolean {
    for (const other of this.#items.values()) {
      if (other.id !== item.id && other.lane === lane && other.tenantId === item.tenantId) {
        if (subjectKey(other) === subjectKey(item)) return true;
      }
    }
    return false;
  }
}

/** Puts `item` in its flow's lane; `headOnly` keeps only the earliest item of each lane. */
function place(grouped: Grouped, item: FairItem, headOnly: boolean): void {
  let subjects = grouped.get(item.tenantId);
  if (!subjects) {
    subjects = new Map();
    grouped.set(item.tenantId, subjects);
  }
  const key = subjectKey(item);
  let lanes = subjects.get(key);
  if (!lanes) {
    lanes = { INTERACTIVE: [], BATCH: [] };
    subjects.set(key, lanes);
  }
  const lane = lanes[item.lane];
  if (!headOnly) lane.push(item);
  else if (lane.length === 0) lane.push(item);
  else if (earlier(item, lane[0] as FairItem)) lane[0] = item;
}

function prune(grouped: Grouped, item: FairItem): void {
  const subjects = grouped.get(item.tenantId) as Map<string, Lanes>;
  const key = subjectKey(item);
  const lanes = subjects.get(key) as Lanes;
  if (lanes.INTERACTIVE.length === 0 && lanes.BATCH.length === 0) subjects.delete(key);
  if (subjects.size === 0) grouped.delete(item.tenantId);
}

function tenantState(clocks: Clocks, tenantId: string): TenantState {
  let state = clocks.tenants.get(tenantId);
  if (!state) {
    state = { vtime: 0, lastSent: -1, clock: 0, subjects: new Map() };
    clocks.tenants.set(tenantId, state);
  }
  return state;
}

function subjectState(tenant: TenantState, key: string): SubjectState {
  let state = tenant.subjects.get(key);
  if (!state) {
    state = { vtime: 0, lastSent: -1, interactiveRun: 0 };
    tenant.subjects.set(key, state);
  }
  return state;
}

/** The key of `candidates` whose clock goes first: smallest start (vtime clamped to `clock`), then least recently sent. */
function first<K>(candidates: Iterable<[K, FlowClock, FairItem]>, clock: number): [K, FairItem] | null {
  let best: [K, FlowClock, FairItem] | null = null;
  for (const candidate of candidates) {
    if (!best) {
      best = candidate;
      continue;
    }
    const [, flow, head] = candidate;
    const [, bestFlow, bestHead] = best;
    const start = Math.max(flow.vtime, clock);
    const bestStart = Math.max(bestFlow.vtime, clock);
    if (
      start < bestStart ||
      (start === bestStart &&
        (flow.lastSent < bestFlow.lastSent ||
          (flow.lastSent === bestFlow.lastSent && earlier(head, bestHead))))
    ) {
      best = candidate;
    }
  }
  return best ? [best[0], best[2]] : null;
}

function laneHead(lanes: Lanes, flow: SubjectState): FairItem | null {
  const interactive = lanes.INTERACTIVE[0];
  const batch = lanes.BATCH[0];
  if (interactive && batch) return flow.interactiveRun >= INTERACTIVE_PER_BATCH ? batch : interactive;
  return interactive ?? batch ?? null;
}

/** The lane's head the policy sends next among `grouped` (heads first in each lane). */
function choose(clocks: Clocks, grouped: Grouped): FairItem | null {
  const tenants = function* (): Generator<[string, FlowClock, FairItem]> {
    for (const [tenantId, subjects] of grouped) {
      const state = tenantState(clocks, tenantId);
      const heads = [...subjects.entries()].map(([key, lanes]) => laneHead(lanes, subjectState(state, key)));
      let head: FairItem | null = null;
      for (const each of heads) if (each && (!head || earlier(each, head))) head = each;
      if (head) yield [tenantId, state, head];
    }
  };
  const tenant = first(tenants(), clocks.clock);
  if (!tenant) return null;
  const state = tenantState(clocks, tenant[0]);
  const subjects = grouped.get(tenant[0]) as Map<string, Lanes>;
  const flows = function* (): Generator<[Lanes, FlowClock, FairItem]> {
    for (const [key, lanes] of subjects) {
      const flow = subjectState(state, key);
      const head = laneHead(lanes, flow);
      if (head) yield [lanes, flow, head];
    }
  };
  return first(flows(), state.clock)?.[1] ?? null;
}

/** Charges `item`'s tenant and flow for one send; `batchWaits`: BATCH work of its flow still waits. */
function charge(clocks: Clocks, item: FairItem, weightOf: TenantWeights, batchWaits: boolean): void {
  const sent = clocks.sent++;
  const tenant = tenantState(clocks, item.tenantId);
  const tenantStart = Math.max(tenant.vtime, clocks.clock);
  clocks.clock = tenantStart;
  tenant.vtime = tenantStart + 1 / weightOf(item.tenantId);
  tenant.lastSent = sent;
  const flow = subjectState(tenant, subjectKey(item));
  const flowStart = Math.max(flow.vtime, tenant.clock);
  tenant.clock = flowStart;
  flow.vtime = flowStart + 1;
  flow.lastSent = sent;
  flow.interactiveRun = item.lane === 'BATCH' ? 0 : batchWaits ? flow.interactiveRun + 1 : 0;
}

function copyClocks(clocks: Clocks): Clocks {
  const tenants = new Map<string, TenantState>();
  for (const [id, tenant] of clocks.tenants) {
    const subjects = new Map<string, SubjectState>();
    for (const [key, flow] of tenant.subjects) subjects.set(key, { ...flow });
    tenants.set(id, { ...tenant, subjects });
  }
  return { clock: clocks.clock, sent: clocks.sent, tenants };
}
