import type { SceneTypeInfo } from './types.js';

/**
 * Turning words into a backdrop: the local engine is not AI, so it reads a small vocabulary of
 * colours, materials and moods from the prompt and lets those drive a procedural scene. That is
 * enough to make prompts visibly matter offline and in tests, and honest about what it is.
 *
 * Over 300 lines because most of it is the vocabulary itself (words → colours, materials,
 * moods): data kept beside the few lines that read it.
 */

/** An sRGB colour with 0..255 channels. */
export type Rgb = readonly [number, number, number];

/** Floor surfaces the renderer knows how to texture. */
export type Material =
  | 'marble'
  | 'wood'
  | 'concrete'
  | 'sand'
  | 'grass'
  | 'water'
  | 'fabric'
  | 'metal'
  | 'stone'
  | 'paper';

/** Lighting moods the renderer knows how to light. */
export type Mood = 'warm' | 'cool' | 'dark' | 'bright' | 'sunset' | 'night' | 'minimal' | 'studio' | 'neon';

/** Everything the renderer needs to know about a prompt, already resolved to colours. */
export interface BackdropStyle {
  wallTop: Rgb;
  wallBottom: Rgb;
  floor: Rgb;
  /** Neon tubes and the sunset sun take this colour. */
  accent: Rgb;
  material: Material | null;
  moods: ReadonlySet<Mood>;
  /** Colour words that survived the negative prompt, in prompt order (for diagnostics and tests). */
  colours: readonly string[];
  /** Derived from the text so the same prompt always renders the same texture. */
  seed: number;
}

const COLOURS: Readonly<Record<string, Rgb>> = {
  red: [214, 48, 49],
  orange: [240, 140, 40],
  yellow: [246, 210, 60],
  green: [60, 160, 80],
  blue: [50, 110, 215],
  purple: [130, 70, 180],
  pink: [240, 130, 170],
  brown: [130, 85, 50],
  black: [28, 28, 30],
  white: [246, 246, 244],
  grey: [150, 150, 152],
  gold: [212, 175, 55],
  silver: [192, 192, 198],
  teal: [0, 128, 128],
  beige: [225, 205, 170],
  cream: [245, 235, 210],
  navy: [25, 40, 100],
  cyan: [40, 200, 220],
  turquoise: [64, 200, 190],
  lavender: [190, 170, 230],
  violet: [140, 80, 200],
  magenta: [200, 40, 160],
  maroon: [120, 25, 35],
  mint: [170, 230, 200],
  olive: [128, 128, 40],
  coral: [250, 128, 114],
  ivory: [250, 245, 230],
  tan: [210, 180, 140],
};

const COLOUR_SYNONYMS: Readonly<Record<string, string>> = {
  gray: 'grey',
  golden: 'gold',
  crimson: 'red',
  scarlet: 'red',
  azure: 'blue',
  aqua: 'cyan',
  emerald: 'green',
  rose: 'pink',
  chocolate: 'brown',
};

const MATERIAL_WORDS: Readonly<Record<string, Material>> = {
  marble: 'marble',
  wood: 'wood',
  wooden: 'wood',
  timber: 'wood',
  oak: 'wood',
  walnut: 'wood',
  concrete: 'concrete',
  cement: 'concrete',
  sand: 'sand',
  sandy: 'sand',
  beach: 'sand',
  desert: 'sand',
  dune: 'sand',
  dunes: 'sand',
  grass: 'grass',
  grassy: 'grass',
  lawn: 'grass',
  meadow: 'grass',
  field: 'grass',
  water: 'water',
  sea: 'water',
  ocean: 'water',
  lake: 'water',
  pool: 'water',
  river: 'water',
  fabric: 'fabric',
  cloth: 'fabric',
  linen: 'fabric',
  silk: 'fabric',
  velvet: 'fabric',
  textile: 'fabric',
  metal: 'metal',
  metallic: 'metal',
  steel: 'metal',
  aluminium: 'metal',
  aluminum: 'metal',
  chrome: 'metal',
  stone: 'stone',
  rock: 'stone',
  rocks: 'stone',
  granite: 'stone',
  slate: 'stone',
  pebble: 'stone',
  pebbles: 'stone',
  paper: 'paper',
  cardboard: 'paper',
  kraft: 'paper',
};

const MOOD_WORDS: Readonly<Record<string, Mood>> = {
  warm: 'warm',
  cozy: 'warm',
  cosy: 'warm',
  cool: 'cool',
  cold: 'cool',
  icy: 'cool',
  dark: 'dark',
  moody: 'dark',
  dim: 'dark',
  bright: 'bright',
  airy: 'bright',
  sunny: 'bright',
  sunlit: 'bright',
  sunset: 'sunset',
  sunrise: 'sunset',
  dusk: 'sunset',
  night: 'night',
  midnight: 'night',
  nighttime: 'night',
  starry: 'night',
  minimal: 'minimal',
  minimalist: 'minimal',
  minimalistic: 'minimal',
  clean: 'minimal',
  simple: 'minimal',
  studio: 'studio',
  seamless: 'studio',
  neon: 'neon',
  cyberpunk: 'neon',
};

/** Floor tone per material. */
const MATERIAL_FLOOR: Readonly<Record<Material, Rgb>> = {
  marble: [232, 229, 224],
  wood: [150, 100, 60],
  concrete: [160, 158, 152],
  sand: [222, 196, 150],
  grass: [80, 140, 60],
  water: [60, 130, 170],
  fabric: [200, 190, 182],
  metal: [170, 175, 182],
  stone: [130, 128, 122],
  paper: [238, 232, 218],
};

/** The wall a material suggests when the prompt names no colour (outdoor floors get a sky). */
const MATERIAL_WALL: Readonly<Record<Material, Rgb>> = {
  marble: [236, 234, 230],
  wood: [225, 210, 190],
  concrete: [192, 190, 186],
  sand: [150, 200, 235],
  grass: [170, 210, 235],
  water: [170, 205, 230],
  fabric: [215, 205, 200],
  metal: [200, 204, 210],
  stone: [190, 186, 178],
  paper: [240, 236, 228],
};

const WHITE: Rgb = [255, 255, 255];
const NEUTRAL_WALL: Rgb = [226, 226, 228];
const DEFAULT_NEON: Rgb = [255, 60, 200];
const PASTEL_DEFAULT: Rgb = [240, 200, 220];

/** Linear blend of two colours; t=0 gives a, t=1 gives b. */
function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

function scale(c: Rgb, f: number): Rgb {
  return [c[0] * f, c[1] * f, c[2] * f];
}

function tokens(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter(Boolean);
}

/** FNV-1a, so textures are stable per prompt without storing anything. */
function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

interface Vocabulary {
  colours: string[];
  materials: Material[];
  moods: Set<Mood>;
  pastel: boolean;
}

function readVocabulary(text: string): Vocabulary {
  const vocabulary: Vocabulary = { colours: [], materials: [], moods: new Set(), pastel: false };
  for (const word of tokens(text)) {
    const colour = COLOUR_SYNONYMS[word] ?? word;
    if (colour in COLOURS) {
      if (!vocabulary.colours.includes(colour)) vocabulary.colours.push(colour);
      continue;
    }
    const material = MATERIAL_WORDS[word];
    if (material !== undefined) {
      if (!vocabulary.materials.includes(material)) vocabulary.materials.push(material);
      continue;
    }
    const mood = MOOD_WORDS[word];
    if (mood !== undefined) vocabulary.moods.add(mood);
    if (word === 'pastel' || word === 'pastels') vocabulary.pastel = true;
  }
  return vocabulary;
}

/**
 * Resolves a prompt (and an optional negative prompt whose words are excluded) to a backdrop.
 * Unrecognised text falls back to a neutral light-grey studio.
 */
export function styleFromText(prompt: string, negativePrompt = ''): BackdropStyle {
  const wanted = readVocabulary(prompt);
  const unwanted = readVocabulary(negativePrompt);
  const colourNames = wanted.colours.filter((c) => !unwanted.colours.includes(c));
  const material = wanted.materials.find((m) => !unwanted.materials.includes(m)) ?? null;
  const moods = new Set([...wanted.moods].filter((m) => !unwanted.moods.has(m)));
  const pastel = wanted.pastel && !unwanted.pastel;

  let colours = colourNames.map((name) => COLOURS[name]!);
  if (pastel) colours = (colours.length > 0 ? colours : [PASTEL_DEFAULT]).map((c) => mix(c, WHITE, 0.55));
  const [first, second] = colours;

  const primary = first ?? (material ? MATERIAL_WALL[material] : NEUTRAL_WALL);
  let wallTop = first ? mix(primary, WHITE, 0.22) : primary;
  let wallBottom = first ? mix(primary, WHITE, 0.42) : mix(primary, WHITE, 0.35);
  let floor: Rgb;
  if (material) floor = second ? mix(MATERIAL_FLOOR[material], second, 0.3) : MATERIAL_FLOOR[material];
  else floor = second ?? scale(primary, 0.8);
  let accent = second ?? first ?? (moods.has('neon') ? DEFAULT_NEON : [255, 214, 150]);

  if (moods.has('sunset')) {
    wallTop = mix([96, 70, 150], primary, 0.2);
    wallBottom = mix([250, 150, 80], primary, 0.2);
    floor = mix(floor, [240, 140, 80], 0.25);
    accent = [255, 222, 160];
  }
  if (moods.has('night')) {
    wallTop = mix(wallTop, [10, 14, 40], 0.8);
    wallBottom = mix(wallBottom, [30, 40, 82], 0.65);
    floor = scale(floor, 0.45);
  }
  if (moods.has('neon')) {
    wallTop = mix([18, 14, 30], primary, 0.12);
    wallBottom = mix([30, 24, 46], primary, 0.12);
    floor = mix([32, 30, 42], floor, 0.15);
  }
  const adjust = (f: (c: Rgb) => Rgb): void => {
    wallTop = f(wallTop);
    wallBottom = f(wallBottom);
    floor = f(floor);
  };
  if (moods.has('warm')) adjust((c) => mix(c, [255, 170, 90], 0.18));
  if (moods.has('cool')) adjust((c) => mix(c, [90, 150, 255], 0.18));
  if (moods.has('bright')) adjust((c) => mix(c, WHITE, 0.3));
  if (moods.has('dark')) adjust((c) => scale(c, 0.4));

  return {
    wallTop,
    wallBottom,
    floor,
    accent,
    material,
    moods,
    colours: colourNames,
    seed: hashText(`${prompt}\u0000${negativePrompt}`),
  };
}

/** The backdrop for a template: its name and description read as a prompt; unknown ids are neutral. */
export function styleForScene(
  sceneType: number,
  catalogue: readonly SceneTypeInfo[],
  negativePrompt = '',
): BackdropStyle {
  const scene = catalogue.find((s) => s.id === sceneType);
  const text = scene ? `${scene.name} ${scene.description ?? ''}` : 'studio';
  return styleFromText(text, negativePrompt);
}
