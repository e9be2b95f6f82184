import { generateUpload } from './fixtures.js';
import { eventually, uploadOperation } from './harness.js';
import type { PicWishDouble } from './picwish-double.js';
import { bearer } from './tenancy.js';

/** What the fair-share specs (#25) read of a task, and how they make and read one as a tenant. */

export const FAIR_TASK_FIELDS = 'id state priority queuePosition estimatedStartAt upstreamTaskId';

export interface FairTaskView {
  id: string;
  state: string;
  priority: 'INTERACTIVE' | 'BATCH';
  queuePosition: number | null;
  estimatedStartAt: string | null;
  upstreamTaskId: string | null;
}

/** Uploads `png` to the gateway at `gateway.url` as one generateBackground of the tenant holding `key`. */
export async function generateAs(
  gateway: { readonly url: string },
  key: string,
  prompt: string,
  png: Buffer,
): Promise<FairTaskView> {
  const answer = await uploadOperation(
    gateway.url,
    generateUpload(FAIR_TASK_FIELDS),
    { file: null, prompt, batch: 1 },
    { variablePath: 'variables.file', bytes: png },
    { 'apollo-require-preflight': 'true', ...bearer(key) },
  );
  const task = (answer.body.data as { generateBackground?: FairTaskView } | undefined)?.generateBackground;
  if (!task) throw new Error(`generateBackground failed: ${JSON.stringify(answer.body)}`);
  return task;
}

/** The task as the tenant holding `key` reads it on the gateway at `gateway.url`. */
export async function readAs(
  gateway: { readonly url: string },
  key: string,
  id: string,
): Promise<FairTaskView> {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...bearer(key),
    },
    body: JSON.stringify({
      query: `query Task($id: ID!) { backgroundTask(id: $id) { ${FAIR_TASK_FIELDS} } }`,
      variables: { id },
    }),
  });
  const body = (await response.json()) as { data?: { backgroundTask: FairTaskView | null } };
  if (!body.data?.backgroundTask) throw new Error(JSON.stringify(body));
  return body.data.backgroundTask;
}

/**
 * Resolves once the engine accepted the create whose prompt is `prompt`: when that was seen (to
 * within 20 ms) and how many creates it accepted before it.
 */
export function upstreamCreateOf(
  engine: PicWishDouble,
  prompt: string,
): Promise<{ at: number; index: number }> {
  return eventually(
    async () => {
      const index = engine.stats().creates_log.findIndex((entry) => entry.fields.prompt === prompt);
      return index >= 0 ? { at: Date.now(), index } : undefined;
    },
    30_000,
    20,
  );
}
