import { randomUUID } from 'node:crypto';

/**
 * Task timelines as PicWish reports them. A task's state is derived from the clock at each poll
 * (queued, preparing, waiting, processing, then terminal once both `durationMs` has passed and the
 * work has finished), so no timers run and a poll always sees a consistent picture.
 */

/** How a task's work ended: success with the rendered PNGs, or a PicWish failure state. */
export type Outcome = { state: 1; images: Buffer[] } | { state: number };

/** The `data` object of PicWish's task answer. */
export interface TaskView {
  task_id: string;
  created_at: number;
  processed_at: number;
  completed_at: number;
  image_1: string;
  image_2: string;
  progress: number;
  state: number;
  return_type: 1 | 2;
  state_detail: string;
  time_elapsed: number;
}

/** Knobs the store needs from the engine options. */
export interface TaskStoreConfig {
  durationMs: number;
  returnType: 'url' | 'base64';
  resultTtlMs: number;
}

interface Settled {
  state: number;
  completedMs: number;
  /** URL paths (url mode) or base64 data (base64 mode). */
  images: string[];
}

interface TaskRecord {
  id: string;
  createdMs: number;
  settled: Settled | null;
  /** The API key that created it: the only one it answers polls to. */
  owner: string;
}

interface StoredResult {
  png: Buffer;
  expiresMs: number;
}

/** Records are dropped this long after completion so a long-running engine does not grow forever. */
const TASK_RETENTION_MS = 24 * 60 * 60 * 1000;

/** Fractions of `durationMs` at which each running state ends. */
const PHASES: ReadonlyArray<{ until: number; state: number; detail: string }> = [
  { until: 0.1, state: 0, detail: 'Queued' },
  { until: 0.25, state: 2, detail: 'Preparing' },
  { until: 0.4, state: 3, detail: 'Waiting' },
  { until: Number.POSITIVE_INFINITY, state: 4, detail: 'Processing' },
];

const TERMINAL_DETAILS: Readonly<Record<number, string>> = {
  1: 'Complete',
  [-1]: 'Failed: the local engine could not compose the image',
  [-2]: 'Failed: the result could not be stored',
  [-3]: 'Failed: the source image could not be downloaded from image_url',
  [-5]: 'Failed: the image exceeds the limits (4096x4096 px, 20 MB)',
  [-7]: 'Failed: invalid image, a PNG is required',
  [-8]: 'Failed: processing timed out',
};

function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/** Holds tasks and their result images, and answers polls and result downloads from them. */
export class TaskStore {
  private readonly config: TaskStoreConfig;
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly results = new Map<string, StoredResult>();

  constructor(config: TaskStoreConfig) {
    this.config = config;
  }

  /** Registers a new task. */
  create(nowMs: number, owner: string): string {
    const id = randomUUID();
    this.tasks.set(id, { id, createdMs: nowMs, settled: null, owner });
    return id;
  }

  /** Records how the task's work ended; it becomes visible once the timeline reaches its end. */
  settle(id: string, outcome: Outcome, nowMs: number): void {
    const task = this.tasks.get(id);
    if (!task || task.settled) return;
    const completedMs = Math.max(task.createdMs + this.config.durationMs, nowMs);
    const images =
      'images' in outcome
        ? outcome.images.map((png) => {
            if (this.config.returnType === 'base64') return png.toString('base64');
            const resultId = randomUUID();
            this.results.set(resultId, { png, expiresMs: completedMs + this.config.resultTtlMs });
            return `/results/${resultId}.png`;
          })
        : [];
    task.settled = { state: outcome.state, completedMs, images };
  }

  /**
   * The task as PicWish would report it at `nowMs` to `apiKey` (another key's task is not there
   * for it, as at PicWish); result paths are made absolute with `baseUrl`.
   */
  view(id: string, nowMs: number, baseUrl: string, apiKey: string): TaskView | undefined {
    const task = this.tasks.get(id);
    if (!task || task.owner !== apiKey) return undefined;
    const { durationMs } = this.config;
    const returnType = this.config.returnType === 'url' ? 1 : 2;
    const settled = task.settled;
    if (settled && nowMs >= settled.completedMs) {
      const image = (i: number): string => {
        const value = settled.images[i];
        if (value === undefined) return '';
        return this.config.returnType === 'url' ? `${baseUrl}${value}` : value;
      };
      return {
        task_id: task.id,
        created_at: seconds(task.createdMs),
        processed_at: seconds(task.createdMs + 0.1 * durationMs),
        completed_at: seconds(settled.completedMs),
        image_1: image(0),
        image_2: image(1),
        progress: 100,
        state: settled.state,
        return_type: returnType,
        state_detail: TERMINAL_DETAILS[settled.state] ?? `Failed with state ${settled.state}`,
        time_elapsed: settled.completedMs - task.createdMs,
      };
    }
    const elapsed = nowMs - task.createdMs;
    const fraction = durationMs > 0 ? elapsed / durationMs : 1;
    const phase = PHASES.find((p) => fraction < p.until) ?? PHASES[PHASES.length - 1]!;
    return {
      task_id: task.id,
      created_at: seconds(task.createdMs),
      processed_at: phase.state === 0 ? 0 : seconds(task.createdMs + 0.1 * durationMs),
      completed_at: 0,
      image_1: '',
      image_2: '',
      progress: phase.state === 0 ? 0 : Math.min(99, Math.floor(fraction * 100)),
      state: phase.state,
      return_type: returnType,
      state_detail: phase.detail,
      time_elapsed: elapsed,
    };
  }

  /** A result image, or undefined once it has expired (or never existed). */
  result(resultId: string, nowMs: number): Buffer | undefined {
    const stored = this.results.get(resultId);
    if (!stored) return undefined;
    if (nowMs >= stored.expiresMs) {
      this.results.delete(resultId);
      return undefined;
    }
    return stored.png;
  }

  /** Frees expired result images and long-finished tasks. */
  sweep(nowMs: number): void {
    for (const [id, stored] of this.results) {
      if (nowMs >= stored.expiresMs) this.results.delete(id);
    }
    for (const [id, task] of this.tasks) {
      if (task.settled && nowMs >= task.settled.completedMs + TASK_RETENTION_MS) this.tasks.delete(id);
    }
  }
}
