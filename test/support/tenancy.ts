import { generateUpload, transparentPng } from './fixtures.js';
import type { GraphQLErrorShape, TestStack } from './harness.js';
import { uploadOperation } from './harness.js';
import { sseEvents } from './sse.js';

/** Two tenants' gateway keys, as `GATEWAY_API_KEYS` takes them. */
export const TENANTS = {
  alpha: 'alpha-key-7f3c9a1e5b2d4c6f8a0b',
  beta: 'beta-key-2e8d6b4a0c1f3e5d7b9a',
} as const;

export const TWO_TENANT_KEYS = `alpha:${TENANTS.alpha},beta:${TENANTS.beta}`;

export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

let png: Promise<Buffer> | null = null;

/** Uploads the test PNG as a new task of the tenant holding `key`; returns the raw answer. */
export async function generate(
  stack: TestStack,
  key: string | null,
  idempotencyKey?: string,
): Promise<{ status: number; id: string | null; errors: GraphQLErrorShape[] }> {
  png ??= transparentPng(400, 300);
  const answer = await uploadOperation(
    stack.url,
    generateUpload(),
    { file: null, key: idempotencyKey ?? null, batch: 1 },
    { variablePath: 'variables.file', bytes: await png },
    { 'apollo-require-preflight': 'true', ...(key ? bearer(key) : {}) },
  );
  const task = answer.body.data?.generateBackground as { id: string } | null | undefined;
  return { status: answer.status, id: task?.id ?? null, errors: answer.body.errors ?? [] };
}

/** Like `generate`, but the task must have been created. */
export async function mustGenerate(stack: TestStack, key: string, idempotencyKey?: string): Promise<string> {
  const answer = await generate(stack, key, idempotencyKey);
  if (!answer.id) throw new Error(`generateBackground failed: ${JSON.stringify(answer.errors)}`);
  return answer.id;
}

export interface SseEvent {
  event: string;
  data: unknown;
}

/**
 * Opens an SSE response and collects its events until `enough` says so (or the stream ends),
 * then hangs up. Subscriptions to running tasks stay open, so reading to the end would hang.
 */
export async function sseUntil(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string },
  enough: (events: SseEvent[]) => boolean,
  timeoutMs = 20_000,
): Promise<{ status: number; events: SseEvent[] }> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const events: SseEvent[] = [];
  try {
    const response = await fetch(url, {
      method: init.method ?? 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...init.headers },
      body: init.body,
      signal: abort.signal,
    });
    if (!response.body || !response.headers.get('content-type')?.includes('text/event-stream')) {
      await response.text();
      return { status: response.status, events };
    }
    try {
      for await (const { event, data } of sseEvents(response)) {
        if (event) events.push({ event, data: data ? JSON.parse(data) : null });
        if (enough(events)) break;
      }
    } catch (error) {
      if (!abort.signal.aborted) throw error;
    }
    return { status: response.status, events };
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}
