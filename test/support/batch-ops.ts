import sharp from 'sharp';
import { transparentPng } from './fixtures.js';
import { eventually, type GraphQLErrorShape } from './harness.js';
import { bearer } from './tenancy.js';

/** Documents and helpers the batch tests share (issue #15 item 3). */

export const BATCH_FIELDS = `id createdAt done
  counts { total accepted refused queued processing succeeded failed cancelled deleted }
  tasks { id state batch { id } }`;

export const GENERATE_BATCH = `mutation Batch($inputs: [GenerateBackgroundInput!]!, $key: String) {
  generateBackgrounds(inputs: $inputs, idempotencyKey: $key) {
    batch { ${BATCH_FIELDS} }
    results { index task { id state } problems { code reason field message retryAfterSeconds } }
  }
}`;

export const GET_BATCH = `query Batch($id: ID!) { batch(id: $id) { ${BATCH_FIELDS} } }`;

export interface Counts {
  total: number;
  accepted: number;
  refused: number;
  queued: number;
  processing: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  deleted: number;
}

export interface BatchView {
  id: string;
  createdAt: string;
  done: boolean;
  counts: Counts;
  tasks: { id: string; state: string; batch: { id: string } | null }[];
}

export interface ItemView {
  index: number;
  task: { id: string; state: string } | null;
  problems: {
    code: string;
    reason: string | null;
    field: string | null;
    message: string;
    retryAfterSeconds: number | null;
  }[];
}

export interface Answer {
  status: number;
  data?: { generateBackgrounds: { batch: BatchView; results: ItemView[] } };
  errors?: GraphQLErrorShape[];
}

/** One batch input: a file of its own (uploaded in the same request) or a URL, and a background. */
export interface Item {
  file?: Buffer;
  url?: string;
  background?: { prompt?: string; sceneType?: number };
}

/**
 * Sends `generateBackgrounds` to the gateway at `gateway.url` as one GraphQL multipart request with a file part per input that has
 * one, in input order (or as JSON when none has).
 */
export async function sendBatch(
  gateway: { readonly url: string },
  items: Item[],
  options: { key?: string; tenant?: string } = {},
): Promise<Answer> {
  const inputs = items.map((item) => ({
    image: item.file ? { file: null } : { url: item.url },
    background: item.background ?? { prompt: 'a sunny beach' },
    batchSize: 1,
  }));
  const variables = { inputs, key: options.key ?? null };
  const auth = options.tenant ? bearer(options.tenant) : {};
  if (!items.some((item) => item.file)) {
    const response = await fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      body: JSON.stringify({ query: GENERATE_BATCH, variables }),
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...auth },
    });
    return { status: response.status, ...(JSON.parse(await response.text()) as object) };
  }
  const form = new FormData();
  form.set('operations', JSON.stringify({ query: GENERATE_BATCH, variables }));
  const map: Record<string, string[]> = {};
  items.forEach((item, index) => {
    if (item.file) map[String(index)] = [`variables.inputs.${index}.image.file`];
  });
  form.set('map', JSON.stringify(map));
  items.forEach((item, index) => {
    if (item.file)
      form.set(String(index), new Blob([new Uint8Array(item.file)], { type: 'image/png' }), `${index}.png`);
  });
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    body: form,
    headers: { 'apollo-require-preflight': 'true', ...auth },
  });
  return { status: response.status, ...(JSON.parse(await response.text()) as object) };
}

export async function getBatch(
  gateway: { readonly url: string },
  id: string,
  tenant?: string,
): Promise<BatchView | null> {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...(tenant ? bearer(tenant) : {}),
    },
    body: JSON.stringify({ query: GET_BATCH, variables: { id } }),
  });
  const answer = (await response.json()) as { data?: { batch: BatchView | null }; errors?: unknown };
  if (answer.errors) throw new Error(JSON.stringify(answer.errors));
  return answer.data?.batch ?? null;
}

export function batchDone(
  gateway: { readonly url: string },
  id: string,
  tenant?: string,
  timeoutMs = 90_000,
): Promise<BatchView> {
  return eventually(
    async () => {
      const batch = await getBatch(gateway, id, tenant);
      return batch?.done ? batch : undefined;
    },
    timeoutMs,
    200,
  );
}

/** The uploads batch tests mix: a good transparent PNG, an opaque JPEG and a PNG under 256 px. */
export interface BatchImages {
  readonly good: Buffer;
  readonly opaqueJpeg: Buffer;
  readonly tinyPng: Buffer;
}

let images: Promise<BatchImages> | null = null;

export function batchImages(): Promise<BatchImages> {
  images ??= (async () => ({
    good: await transparentPng(400, 300),
    opaqueJpeg: await sharp({ create: { width: 400, height: 300, channels: 3, background: '#3060c0' } })
      .jpeg()
      .toBuffer(),
    tinyPng: await transparentPng(100, 80),
  }))();
  return images;
}

/** 20 uploads, 3 of them bad: an opaque JPEG at 4, a too-small PNG at 9, prompt and sceneType at 15. */
export function twentyWithThreeBad({ good, opaqueJpeg, tinyPng }: BatchImages): Item[] {
  return Array.from({ length: 20 }, (_, index): Item => {
    if (index === 4) return { file: opaqueJpeg };
    if (index === 9) return { file: tinyPng };
    if (index === 15) return { file: good, background: { prompt: 'a marble table', sceneType: 105 } };
    return { file: good };
  });
}
