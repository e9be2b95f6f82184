import { generateUpload, transparentPng } from './fixtures.js';
import { eventually, readSse, type TestStack, uploadOperation } from './harness.js';

/** GraphQL documents and small helpers shared by the budget, idempotency and results tests. */

export const TASK_FIELDS = `id state progress queuePosition estimatedStartAt upstreamTaskId
  error { code message }
  images { url width height contentType bytes expiresAt }`;

export const GET_TASK = `query Task($id: ID!) { backgroundTask(id: $id) { ${TASK_FIELDS} } }`;
export const CANCEL = `mutation Cancel($id: ID!) { cancelBackgroundTask(id: $id) { ${TASK_FIELDS} } }`;
export const DELETE = `mutation Delete($id: ID!) { deleteBackgroundTask(id: $id) }`;
export const WATCH = `subscription Watch($id: ID!) { backgroundTaskUpdated(id: $id) { ${TASK_FIELDS} } }`;

export interface TaskView {
  id: string;
  state: 'QUEUED' | 'PROCESSING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  progress: number;
  queuePosition: number | null;
  estimatedStartAt: string | null;
  upstreamTaskId: string | null;
  error: { code: string; message: string } | null;
  images: {
    url: string;
    width: number;
    height: number;
    contentType: string;
    bytes: number;
    expiresAt: string;
  }[];
}

/** Uploads `png` (a fresh transparent PNG by default) and returns the raw GraphQL answer. */
export async function generate(
  stack: TestStack,
  options: { png?: Buffer; key?: string; deadline?: number; prompt?: string; batch?: number } = {},
) {
  const png = options.png ?? (await transparentPng(400, 300));
  return uploadOperation(
    stack.url,
    generateUpload(TASK_FIELDS),
    {
      file: null,
      key: options.key ?? null,
      deadline: options.deadline ?? null,
      prompt: options.prompt ?? 'a sunny beach',
      batch: options.batch ?? 2,
    },
    { variablePath: 'variables.file', bytes: png },
  );
}

/** Like `generate`, but fails the test unless a task came back. */
export async function generateTask(
  stack: TestStack,
  options: Parameters<typeof generate>[1] = {},
): Promise<TaskView> {
  const answer = await generate(stack, options);
  const task = (answer.body.data as { generateBackground?: TaskView } | undefined)?.generateBackground;
  if (!task) throw new Error(`generateBackground failed: ${JSON.stringify(answer.body)}`);
  return task;
}

export async function getTask(stack: TestStack, id: string): Promise<TaskView | null> {
  const answer = await stack.gql<{ backgroundTask: TaskView | null }>(GET_TASK, { id });
  if (answer.body.errors) throw new Error(JSON.stringify(answer.body.errors));
  return answer.body.data?.backgroundTask ?? null;
}

const FINAL_STATES: ReadonlySet<string> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

/** The task when it is in a final state, else undefined: what `eventually` waits for. */
export function ifFinal<T extends { state: string }>(task: T | null | undefined): T | undefined {
  return task && FINAL_STATES.has(task.state) ? task : undefined;
}

/** Waits until the task is in a terminal state and returns it. */
export function settled(stack: TestStack, id: string, timeoutMs = 60_000): Promise<TaskView> {
  return eventually(async () => ifFinal(await getTask(stack, id)), timeoutMs, 200);
}

/** Opens a subscription over SSE; resolves with every snapshot once the stream completes. */
export async function watch(stack: TestStack, id: string): Promise<TaskView[]> {
  const { status, events } = await readSse(`${stack.url}/graphql`, {
    body: JSON.stringify({ query: WATCH, variables: { id } }),
  });
  if (status !== 200) throw new Error(`subscription answered ${status}`);
  const snapshots: TaskView[] = [];
  for (const event of events) {
    if (event.event !== 'next') continue;
    const payload = event.data as { data?: { backgroundTaskUpdated: TaskView }; errors?: unknown };
    if (payload.errors) throw new Error(`subscription error: ${JSON.stringify(payload.errors)}`);
    if (payload.data) snapshots.push(payload.data.backgroundTaskUpdated);
  }
  return snapshots;
}

/** Waits until `stack`'s gateway has `n` live subscriptions (so none misses an early event). */
export async function subscribersReady(stack: TestStack, n: number): Promise<void> {
  await eventually(async () => {
    const metrics = await stack.gateway.metrics.registry.getSingleMetricAsString(
      'gateway_active_subscriptions',
    );
    const value = Number(/gateway_active_subscriptions (\d+)/.exec(metrics)?.[1] ?? 0);
    return value >= n ? true : undefined;
  }, 20_000);
}
