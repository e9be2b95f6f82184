import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { generateUpload } from '../../test/support/fixtures.js';
import { eventually, type GraphQLErrorShape, uploadOperation } from '../../test/support/harness.js';
import { bearer } from '../../test/support/tenancy.js';
import { quantile, sleep } from './stats.js';

/** A tenant's view of the gateway for the hostile bench (#27): its operations and the other tenant's probes. */

export interface GqlAnswer<T> {
  readonly status: number;
  readonly body: { data?: T; errors?: GraphQLErrorShape[] };
}

/** POSTs a GraphQL operation as JSON as the tenant holding `key`. */
export async function gqlAs<T = Record<string, unknown>>(
  url: string,
  key: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<GqlAnswer<T>> {
  const response = await request(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...bearer(key),
    },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.statusCode, body: (await response.body.json()) as never };
}

/**
 * What a refused answer says, as the bench tallies it: the code, then the reason (or the reasons
 * of the input's problems); "accepted" without errors.
 */
export function refusalOf(errors: readonly GraphQLErrorShape[] | undefined): string {
  const first = errors?.[0];
  if (!first) return 'accepted';
  const problems = (first.extensions?.problems ?? []) as { reason?: string }[];
  const reasons = first.extensions?.reason ? [first.extensions.reason] : problems.map((p) => p.reason);
  const code = first.extensions?.code ?? first.message.slice(0, 60);
  return reasons.length > 0 ? `${code} ${reasons.join('+')}` : code;
}

/** Uploads `png` as one generateBackground (batchSize 1) of the tenant holding `key`. */
export async function uploadAs(
  url: string,
  key: string,
  png: Buffer,
): Promise<{ id: string | null; errors: GraphQLErrorShape[] | undefined }> {
  const answer = await uploadOperation(
    url,
    generateUpload('id'),
    { file: null, batch: 1 },
    { variablePath: 'variables.file', bytes: png },
    { 'apollo-require-preflight': 'true', ...bearer(key) },
  );
  const task = answer.body.data?.generateBackground as { id: string } | null | undefined;
  return { id: task?.id ?? null, errors: answer.body.errors };
}

const FINISHED = 'query($id: ID!) { backgroundTask(id: $id) { state upstreamTaskId images { url } } }';

interface FinishedView {
  backgroundTask: { state: string; upstreamTaskId: string | null; images: { url: string }[] } | null;
}

/** Uploads `png` for the tenant holding `key` and waits until `done` holds for the task. */
export async function taskOf(
  url: string,
  key: string,
  png: Buffer,
  done: (task: NonNullable<FinishedView['backgroundTask']>) => boolean = (task) => task.state === 'SUCCEEDED',
): Promise<{ id: string; link: string | null }> {
  const made = await uploadAs(url, key, png);
  if (!made.id) throw new Error(`generateBackground refused: ${refusalOf(made.errors)}`);
  const id = made.id;
  const task = await eventually(
    async () => {
      const read = (await gqlAs<FinishedView>(url, key, FINISHED, { id })).body.data?.backgroundTask;
      if (read && ['FAILED', 'CANCELLED'].includes(read.state)) throw new Error(`task ${id} ${read.state}`);
      return read && done(read) ? read : undefined;
    },
    60_000,
    100,
  );
  return { id, link: task.images[0]?.url ?? null };
}

/** The three things the probing tenant does in a loop while the other attacks. */
export const PROBE_KINDS = ['query', 'file', 'upload'] as const;
export type ProbeKind = (typeof PROBE_KINDS)[number];

/** How often the task query and the file GET start (ms). */
export const PROBE_EVERY_MS = { query: 100, file: 100 } as const;

/**
 * Uploads: often at first, so a short attack sees several, then slower, so that the probing
 * tenant stays under TENANT_RATE_LIMIT_PER_MINUTE (60) for the whole gateway's life (its task
 * and warm-up upload included, attacks under a minute): a refusal of its own making would read
 * as the attack's doing.
 */
export const UPLOAD_PACE = { first: 30, everyMs: 500, thenEveryMs: 2_000 } as const;

const pause = (kind: ProbeKind, made: number): number =>
  kind === 'upload'
    ? made < UPLOAD_PACE.first
      ? UPLOAD_PACE.everyMs
      : UPLOAD_PACE.thenEveryMs
    : PROBE_EVERY_MS[kind];
const PROBE_TIMEOUT_MS = 10_000;

/** The probing tenant: its finished task, that task's result link, the PNG it uploads. */
export interface ProbeTarget {
  readonly url: string;
  readonly key: string;
  readonly taskId: string;
  readonly fileUrl: string;
  readonly png: Buffer;
}

interface ProbeSample {
  readonly kind: ProbeKind;
  readonly ms: number;
  readonly failure: string | null;
}

/** One probe: null when it was answered as it should be, else what went wrong. */
async function probe(kind: ProbeKind, target: ProbeTarget): Promise<string | null> {
  switch (kind) {
    case 'query': {
      const read = await gqlAs<FinishedView>(target.url, target.key, FINISHED, { id: target.taskId });
      const state = read.body.data?.backgroundTask?.state;
      return state === 'SUCCEEDED' ? null : `${read.status} ${state ?? refusalOf(read.body.errors)}`;
    }
    case 'file': {
      const response = await request(target.fileUrl);
      const bytes = (await response.body.arrayBuffer()).byteLength;
      return response.statusCode === 200 && bytes > 0 ? null : `${response.statusCode}, ${bytes} B`;
    }
    case 'upload': {
      const made = await uploadAs(target.url, target.key, target.png);
      return made.id ? null : refusalOf(made.errors);
    }
  }
}

async function timed(kind: ProbeKind, target: ProbeTarget): Promise<ProbeSample> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer in ${PROBE_TIMEOUT_MS / 1000} s`), PROBE_TIMEOUT_MS);
  });
  let failure: string | null;
  try {
    failure = await Promise.race([probe(kind, target), late]);
  } catch (error) {
    failure = (error as { code?: string }).code ?? (error as Error).message;
  } finally {
    clearTimeout(timer);
  }
  return { kind, ms: performance.now() - started, failure };
}

export interface ProbeSummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly maxMs: number;
  readonly failures: number;
  readonly firstFailure: string | null;
}

/** Runs each probe in its own loop until `stop`, which resolves with a summary per kind. */
export function startProbes(target: ProbeTarget): { stop(): Promise<Record<ProbeKind, ProbeSummary>> } {
  let running = true;
  const samples: ProbeSample[] = [];
  const loop = async (kind: ProbeKind) => {
    for (let made = 1; running; made += 1) {
      const sample = await timed(kind, target);
      samples.push(sample);
      await sleep(Math.max(0, pause(kind, made) - sample.ms));
    }
  };
  const loops = PROBE_KINDS.map(loop);
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      const summary = (kind: ProbeKind): ProbeSummary => {
        const mine = samples.filter((s) => s.kind === kind);
        const failed = mine.filter((s) => s.failure !== null);
        const ms = mine.map((s) => s.ms);
        return {
          count: mine.length,
          p50Ms: quantile(ms, 0.5),
          maxMs: Math.max(0, ...ms),
          failures: failed.length,
          firstFailure: failed[0]?.failure ?? null,
        };
      };
      return { query: summary('query'), file: summary('file'), upload: summary('upload') };
    },
  };
}

/** One round of every probe, not recorded: so first-use work is done before the idle figure. */
export async function warmUp(target: ProbeTarget): Promise<void> {
  for (const kind of PROBE_KINDS) {
    const sample = await timed(kind, target);
    if (sample.failure) throw new Error(`warm-up ${kind} probe failed: ${sample.failure}`);
  }
}
