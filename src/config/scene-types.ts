import { readFileSync } from 'node:fs';
import { err, ok, type Result } from '../shared/result.js';
import type { ConfigError } from './config.js';

/**
 * Where a catalogue entry comes from, so a picker can tell ids seen in PicWish's public client
 * code from ids an operator configured (which the gateway cannot check either).
 */
export type SceneTypeSource = 'BUILT_IN' | 'FILE';

/** A background template PicWish knows by id (`scene_type`). */
export interface SceneType {
  readonly id: number;
  readonly name: string;
  readonly description: string | null;
  readonly source: SceneTypeSource;
}

/**
 * The catalogue served by `sceneTypes` when no SCENE_TYPES_FILE is given. PicWish's own listing
 * endpoint is not public, so only ids seen in public client code (2, 5, 105) are listed: any
 * other id would be sent to PicWish as if it were real (#14). The names and descriptions are
 * ours; the local engine reads them to style its backdrops.
 */
export const DEFAULT_SCENE_TYPES: readonly SceneType[] = [
  {
    id: 2,
    name: 'Marble counter',
    description: 'White marble surface with soft daylight and a pale grey wall.',
    source: 'BUILT_IN',
  },
  {
    id: 5,
    name: 'Wooden table',
    description: 'Warm brown wood tabletop with a soft beige background.',
    source: 'BUILT_IN',
  },
  {
    id: 105,
    name: 'Studio',
    description: 'Neutral light grey studio backdrop with a soft floor shadow.',
    source: 'BUILT_IN',
  },
];

/** Reads a catalogue file: a JSON array of `{ id, name, description? }`. */
export function loadSceneTypes(file: string | null): Result<readonly SceneType[], ConfigError> {
  if (!file) return ok(DEFAULT_SCENE_TYPES);
  const problem = (message: string) =>
    err({ variable: 'SCENE_TYPES_FILE', message: `SCENE_TYPES_FILE=${file}: ${message}` });
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    return problem(`cannot be read as JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) return problem('must be a non-empty JSON array');
  const seen = new Set<number>();
  const entries: SceneType[] = [];
  for (const [index, entry] of parsed.entries()) {
    const { id, name, description } = (entry ?? {}) as Record<string, unknown>;
    if (typeof id !== 'number' || !Number.isInteger(id) || seen.has(id)) {
      return problem(`entry ${index} needs a unique integer id`);
    }
    if (typeof name !== 'string' || name.trim() === '') return problem(`entry ${index} needs a name`);
    if (description !== undefined && description !== null && typeof description !== 'string') {
      return problem(`entry ${index} has a description that is not a string`);
    }
    seen.add(id);
    entries.push({
      id,
      name: name.trim(),
      description: typeof description === 'string' ? description : null,
      source: 'FILE',
    });
  }
  return ok(entries);
}
