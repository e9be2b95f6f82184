import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { transparentPng } from './fixtures.js';
import { eventually, type GraphQLErrorShape, type TestStack, uploadOperation } from './harness.js';

/** GraphQL documents and helpers the webhook tests share (test/e2e/webhooks*.test.ts and test/e2e/cluster/webhooks-restart.test.ts). */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const GENERATE_HOOKED = `mutation GenerateHooked($file: Upload!, $url: String, $events: [BackgroundTaskState!]) {
  generateBackground(input: {
    image: { file: $file }, background: { prompt: "white studio" }, batchSize: 1,
    webhookUrl: $url, webhookEvents: $events
  }) { id state }
}`;

export const DELIVERIES = `query Deliveries($id: ID!) {
  backgroundTask(id: $id) {
    state
    webhookDeliveries { id event url status attemptCount lastStatusCode nextAttemptAt createdAt attempts { at statusCode error } }
  }
}`;

export const SECRET = 'query Secret { viewer { webhookSecret { secret previousValidUntil } } }';
export const ROTATE = 'mutation Rotate { rotateWebhookSecret { secret previousValidUntil } }';

export interface DeliveryView {
  id: string;
  event: string;
  url: string;
  status: 'PENDING' | 'DELIVERED' | 'GAVE_UP';
  attemptCount: number;
  lastStatusCode: number | null;
  nextAttemptAt: string | null;
  createdAt: string;
  attempts: { at: string; statusCode: number | null; error: string | null }[];
}

let png: Promise<Buffer> | null = null;

/** Uploads the test PNG with a webhook subscription; answers the task id or the errors. */
export async function generateHooked(
  baseUrl: string,
  url: string | null,
  events?: readonly string[] | null,
  headers: Record<string, string> = {},
): Promise<{ id: string | null; errors: GraphQLErrorShape[] }> {
  png ??= transparentPng(400, 300);
  const answer = await uploadOperation(
    baseUrl,
    GENERATE_HOOKED,
    { file: null, url, events: events ?? null },
    { variablePath: 'variables.file', bytes: await png },
    { 'apollo-require-preflight': 'true', ...headers },
  );
  const task = answer.body.data?.generateBackground as { id: string } | null | undefined;
  return { id: task?.id ?? null, errors: answer.body.errors ?? [] };
}

/** A verifier as docs/webhooks.md defines it. */
export type DocumentedVerifier = (
  secret: string,
  rawBody: string,
  headers: Record<string, string>,
) => unknown;

/**
 * The verification snippets of docs/webhooks.md, exactly as written there (the ```js blocks named
 * `verify-….mjs`), saved as modules under node_modules/.cache (so `standardwebhooks` resolves
 * from the project) and imported.
 */
export async function documentedVerifiers(): Promise<Record<string, DocumentedVerifier>> {
  const doc = readFileSync(join(ROOT, 'docs/webhooks.md'), 'utf8');
  const folder = join(ROOT, 'node_modules/.cache/webhook-doc-snippets');
  mkdirSync(folder, { recursive: true });
  const verifiers: Record<string, DocumentedVerifier> = {};
  for (const [, name, code] of doc.matchAll(/```js (verify-[\w-]+\.mjs)\n([\s\S]*?)```/g)) {
    const file = join(folder, name as string);
    writeFileSync(file, code as string);
    const module = (await import(`${pathToFileURL(file).href}?${Date.now()}`)) as {
      verifyWebhook: DocumentedVerifier;
    };
    verifiers[name as string] = module.verifyWebhook;
  }
  return verifiers;
}

/** The task's webhook deliveries, as its owner reads them. */
export async function deliveriesOf(stack: TestStack, id: string): Promise<DeliveryView[]> {
  const answer = await stack.gql<{ backgroundTask: { webhookDeliveries: DeliveryView[] } }>(DELIVERIES, {
    id,
  });
  if (!answer.body.data) throw new Error(JSON.stringify(answer.body));
  return answer.body.data.backgroundTask.webhookDeliveries;
}

/** Waits until the task's one delivery is no longer PENDING. */
export function settledDelivery(stack: TestStack, id: string): Promise<DeliveryView> {
  return eventually(async () => {
    const [delivery] = await deliveriesOf(stack, id);
    return delivery && delivery.status !== 'PENDING' ? delivery : undefined;
  });
}
