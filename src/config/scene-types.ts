import { readFileSync } from 'node:fs';
import { err, ok, type Result } from '../shared/result.js';
import type { ConfigError } from './config.js';

/** A background template PicWish knows by id (`scene_type`). */
export interface SceneType {
  readonly id: number;
  readonly name: string;
  readonly description: string | null;
}

/**
 * The catalogue served by `sceneTypes` when no SCENE_TYPES_FILE is given. PicWish's own listing
 * endpoint is not public; 2, 5 and 105 are ids seen in public client code, the rest are
 * illustrative. The local engine reads the same descriptions to style its backdrops.
 */
export const DEFAULT_SCENE_TYPES: readonly SceneType[] = [
  {
    id: 2,
    name: 'Marble counter',
    description: 'White marble surface with soft daylight and a pale grey wall.',
  },
  { id: 5, name: 'Wooden table', description: 'Warm brown wood tabletop with a soft beige background.' },
  { id: 105, name: 'Studio', description: 'Neutral light grey studio backdrop with a soft floor shadow.' },
  { id: 201, name: 'Beach', description: 'Golden sand under a bright blue summer sky.' },
  { id: 202, name: 'Garden', description: 'Fresh green grass with a blurred green garden behind.' },
  { id: 203, name: 'Sunset', description: 'Warm orange and pink sunset gradient over a dark floor.' },
  { id: 204, name: 'Concrete loft', description: 'Cool grey concrete floor and wall, minimal and modern.' },
  { id: 205, name: 'Night neon', description: 'Dark night scene with purple and teal neon light.' },
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
    });
  }
  return ok(entries);
}
