import type { GatewayProcess } from './gateway-process.js';

export const CREATE = `mutation Create($url: String!) {
  generateBackground(input: { image: { url: $url }, background: { prompt: "white marble counter, soft daylight" } }) { id state }
}`;

export const TASK_QUERY = `query Task($id: ID!) {
  backgroundTask(id: $id) { id state progress upstreamTaskId images { url width height } error { code message } }
}`;

export const FOLLOW = `subscription Follow($id: ID!) {
  backgroundTaskUpdated(id: $id) { id state progress queuePosition images { url width height } error { code message } }
}`;

/** The JSON body of a subscription request for one task. */
export const followBody = (id: string): string =>
  JSON.stringify({ query: FOLLOW, variables: { id }, operationName: 'Follow' });

export async function createTask(gateway: GatewayProcess, sourceUrl: string): Promise<string> {
  const answer = await gateway.gql<{ generateBackground: { id: string } }>(CREATE, { url: sourceUrl });
  const id = answer.data?.generateBackground?.id;
  if (!id) throw new Error(`create failed: ${JSON.stringify(answer)}`);
  return id;
}

export interface TaskView {
  id: string;
  state: string;
  progress: number;
  upstreamTaskId: string | null;
}

export async function readTask(gateway: GatewayProcess, id: string): Promise<TaskView> {
  const answer = await gateway.gql<{ backgroundTask: TaskView }>(TASK_QUERY, { id });
  if (!answer.data?.backgroundTask) throw new Error(`read failed: ${JSON.stringify(answer)}`);
  return answer.data.backgroundTask;
}

/** Waits until `check` holds for the task, reading it every `everyMs`. */
export async function waitForTask(
  gateway: GatewayProcess,
  id: string,
  check: (task: TaskView) => boolean,
  timeoutMs = 60_000,
  everyMs = 200,
): Promise<TaskView> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const task = await readTask(gateway, id);
    if (check(task)) return task;
    if (Date.now() > end)
      throw new Error(`task ${id} did not reach the expected state: ${JSON.stringify(task)}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
