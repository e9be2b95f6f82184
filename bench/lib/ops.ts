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

/**
 * Reads a task. A read is idempotent, so a reused keep-alive connection the gateway closed at the
 * same moment (a reset, likelier while it is busy opening 10000 streams) is retried.
 */
export async function readTask(gateway: GatewayProcess, id: string): Promise<TaskView> {
  let answer: Awaited<ReturnType<typeof gateway.gql<{ backgroundTask: TaskView }>>>;
  for (let attempt = 1; ; attempt += 1) {
    try {
      answer = await gateway.gql<{ backgroundTask: TaskView }>(TASK_QUERY, { id });
      break;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt >= 3 || (code !== 'ECONNRESET' && code !== 'UND_ERR_SOCKET')) throw error;
    }
  }
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
