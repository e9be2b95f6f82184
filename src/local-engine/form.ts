import type { IncomingMessage } from 'node:http';
import { type FormData, Request } from 'undici';
import { err, ok, type Result } from '../shared/result.js';
import type { JobInput } from './pipeline.js';
import { MAX_IMAGE_BYTES } from './source.js';

/**
 * A POST's body as PicWish reads it: bounded, multipart, and for a create the parameters checked
 * with PicWish's messages. Apart from server.ts so the routes read as the contract's steps.
 */

/** Bodies above this are refused with 413 (a 20 MB image plus generous multipart overhead). */
const MAX_BODY_BYTES = 25 * 1024 * 1024;
/** Past the body limit the engine keeps draining up to here so the client can read the 413. */
const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;
const MAX_PROMPT_CHARS = 1024;

/** A parsed form: text fields and files by name. */
export interface ParsedForm {
  fields: Map<string, string>;
  files: Map<string, Buffer>;
}

/** A create refused before it is accepted: PicWish's HTTP status and message. */
export interface Rejection {
  status: 400 | 413;
  message: string;
}

/** Buffers the body up to MAX_BODY_BYTES; beyond it, drains (so the 413 can be read) and reports it. */
export function readBody(req: IncomingMessage): Promise<Result<Buffer, 'too-large' | 'aborted'>> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else chunks.length = 0;
      if (size > DRAIN_LIMIT_BYTES) req.destroy();
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? err('too-large') : ok(Buffer.concat(chunks))));
    req.on('close', () => {
      if (!req.complete) resolve(err('aborted'));
    });
    req.on('error', () => resolve(err('aborted')));
  });
}

/** The form's text fields and files, the first of each name (PicWish reads the first too). */
export async function parseForm(
  contentType: string | undefined,
  body: Buffer,
): Promise<Result<ParsedForm, string>> {
  if (!contentType || !/^\s*(multipart\/form-data|application\/x-www-form-urlencoded)\b/i.test(contentType)) {
    return err('the body must be multipart/form-data');
  }
  let form: FormData;
  try {
    form = await new Request('http://engine.local/', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    }).formData();
  } catch {
    return err('the body is not valid multipart/form-data');
  }
  const parsed: ParsedForm = { fields: new Map(), files: new Map() };
  for (const [name, value] of form) {
    if (typeof value === 'string') {
      if (!parsed.fields.has(name)) parsed.fields.set(name, value);
    } else if (!parsed.files.has(name)) {
      parsed.files.set(name, Buffer.from(await value.arrayBuffer()));
    }
  }
  return ok(parsed);
}

/** Checks the create parameters the way PicWish documents them; the message names the parameter. */
export function validateCreate({ fields, files }: ParsedForm): Result<JobInput, Rejection> {
  const bad = (message: string) => err<Rejection>({ status: 400, message });
  for (const name of ['image_url', 'prompt', 'scene_type', 'negative_prompt', 'batch_size']) {
    if (files.has(name)) return bad(`${name} must be a text field, not a file`);
  }
  // Empty values count as absent: PicWish says the other parameter "must be empty".
  const text = (name: string): string | null => {
    const value = fields.get(name);
    return value === undefined || value === '' ? null : value;
  };
  if (text('image_file') !== null) return bad('image_file must be a file');

  // The engine never fetches a URL: it runs on the gateway's host, where a URL could reach what
  // the gateway's guard keeps out. The gateway fetches and checks image URLs itself and sends
  // files, so an image_url here is refused as PicWish refuses a bad parameter.
  if (text('image_url') !== null) {
    return bad('image_url is not supported by the local engine: send the image as image_file');
  }
  const file = files.get('image_file');
  if (!file) return bad('image_file is required');
  if (file.byteLength > MAX_IMAGE_BYTES) {
    return err<Rejection>({ status: 413, message: 'image_file is larger than 20 MB' });
  }

  const prompt = text('prompt');
  const sceneText = text('scene_type');
  if (prompt && sceneText) return bad('prompt and scene_type are mutually exclusive');
  if (!prompt && !sceneText) return bad('prompt or scene_type is required');
  if (prompt && [...prompt].length > MAX_PROMPT_CHARS) return bad('prompt must be at most 1024 characters');
  let sceneType: number | null = null;
  if (sceneText) {
    sceneType = /^\d{1,15}$/.test(sceneText.trim()) ? Number(sceneText.trim()) : Number.NaN;
    if (Number.isNaN(sceneType)) return bad('scene_type must be an integer');
  }

  const batch = text('batch_size') ?? '2';
  if (batch.trim() !== '1' && batch.trim() !== '2') return bad('batch_size must be 1 or 2');

  return ok({
    file,
    prompt,
    sceneType,
    negativePrompt: text('negative_prompt') ?? '',
    batchSize: batch.trim() === '1' ? 1 : 2,
  });
}
