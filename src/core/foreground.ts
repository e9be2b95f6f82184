import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { GuardedFetcher } from '../outbound/index.js';
import { AbandonedWork, type FairGate, UNGATED, type WorkSlot } from '../shared/fair-gate.js';
import { err, type Result } from '../shared/result.js';
import { badInput, type GatewayError } from './errors.js';
import type { SpooledSource, UploadSpool } from './upload-spool.js';
import { spoolImageUrl } from './url-input.js';
import { IMAGE_FIELDS, type ImageChoice, validateHttpUrl } from './validation.js';

/**
 * The foreground as the schema received it: an upload still streaming in (opened on demand) or a
 * URL. Exactly one must be given; `validateParams` refuses anything else.
 */
export interface ImageInput extends ImageChoice {
  readonly file?: (() => Promise<Readable>) | null;
  readonly url?: string | null;
  /** Downscale an oversized image instead of refusing it (#14). @default true */
  readonly fit?: boolean;
  /** The request's signal: image work that has not started when it aborts is dropped (#27). */
  readonly signal?: AbortSignal;
}

/**
 * The process's heavy image work, shared fairly between tenants (#27): decodes (fitting, the pixel
 * checks) and image URL fetches, each under its own concurrency limit.
 */
export interface ImageGates {
  readonly decode: FairGate;
  readonly fetch: FairGate;
}

/** Where a foreground goes: the spool, and the guarded fetcher for URL inputs. */
export interface ForegroundDeps {
  readonly spool: UploadSpool;
  readonly imageUrls: Pick<GuardedFetcher, 'open'>;
  /** @default none: the work runs at once */
  readonly gates?: ImageGates;
}

/**
 * The upload or the URL's bytes in the spool, checked: a PNG with transparency, or with
 * `removeBackground` a photo, background and all (refused exactly as before #14 otherwise).
 */
export async function spoolForeground(
  deps: ForegroundDeps,
  id: string,
  image: ImageInput,
  removeBackground: boolean,
  tenantId: string,
): Promise<Result<SpooledSource, GatewayError>> {
  try {
    return await spoolIn(deps, id, image, removeBackground, tenantId);
  } catch (error) {
    if (!(error instanceof AbandonedWork)) throw error;
    // Nobody is left to read the answer; the field still says which input it was.
    const field = image.file == null ? IMAGE_FIELDS.url : IMAGE_FIELDS.file;
    return err(badInput('UPLOAD_MISSING', field, 'The request went away before its image was checked.'));
  }
}

async function spoolIn(
  deps: ForegroundDeps,
  id: string,
  image: ImageInput,
  removeBackground: boolean,
  tenantId: string,
): Promise<Result<SpooledSource, GatewayError>> {
  const fit = image.fit ?? true;
  const { gates } = deps;
  const decode: WorkSlot = gates ? (work) => gates.decode.run(tenantId, work, image.signal) : UNGATED;
  const accept = (body: Readable) =>
    removeBackground
      ? deps.spool.acceptPhoto(id, body, fit, decode)
      : deps.spool.accept(id, body, fit, decode);
  const open = image.file ?? null;
  if (open === null) {
    const checked = validateHttpUrl(image.url ?? '', IMAGE_FIELDS.url);
    if (!checked.ok) return checked;
    const fetch = () => spoolImageUrl(deps.imageUrls, checked.value, IMAGE_FIELDS.url, accept);
    return gates ? gates.fetch.run(tenantId, fetch, image.signal) : fetch();
  }
  const field = IMAGE_FIELDS.file;
  let stream: Readable;
  try {
    stream = await open();
  } catch (error) {
    const status = (error as { status?: number }).status;
    return err(
      status === 413
        ? badInput('FILE_TOO_LARGE', field, 'The file is larger than 20 MB.')
        : badInput('UPLOAD_MISSING', field, 'The upload named in the request did not arrive.'),
    );
  }
  const spooled = await accept(stream);
  return spooled.ok ? spooled : err(badInput(spooled.error.reason, field, spooled.error.message));
}

/**
 * A refused input's other problems, so one answer names them all: when the parameters are wrong,
 * an uploaded image is checked too (its spooled copy then dropped) and a URL's form, and their
 * problem is listed after theirs, so the first problem stays what it was. A URL is not fetched
 * for an input that is refused anyway.
 */
export async function withImageProblems(
  deps: ForegroundDeps,
  error: GatewayError,
  image: ImageInput,
  removeBackground: boolean,
  tenantId: string,
): Promise<GatewayError> {
  if (error.kind !== 'BAD_USER_INPUT') return error;
  const imageField = IMAGE_FIELDS.file.slice(0, -1).join('.');
  if (error.problems.some((p) => p.field.join('.').startsWith(imageField))) return error;
  if ((image.file == null) === (image.url == null)) return error;
  let found: GatewayError | null = null;
  if (image.file == null) {
    const checked = validateHttpUrl(image.url ?? '', IMAGE_FIELDS.url);
    if (!checked.ok) found = checked.error;
  } else {
    const spooled = await spoolForeground(deps, randomUUID(), image, removeBackground, tenantId);
    if (spooled.ok) await deps.spool.discard(spooled.value);
    else found = spooled.error;
  }
  if (found?.kind !== 'BAD_USER_INPUT') return error;
  return {
    kind: 'BAD_USER_INPUT',
    problems: [...error.problems, ...found.problems] as typeof error.problems,
  };
}
