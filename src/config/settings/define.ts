import { z } from 'zod';
import { withoutCredentials } from '../../shared/secret-scrubbing.js';

/**
 * The vocabulary the settings are declared in (./index.ts says how to add one). A setting is its
 * meaning and default as `.env.example` shows them, and a zod schema that turns the variable's raw
 * text into its value, with a message that names the variable when the text is wrong (families of
 * settings: ./family.ts).
 */

export type Env = Readonly<Record<string, string | undefined>>;

/** A variable's raw text: trimmed, and empty counts as unset. */
type Raw = string | undefined;

export interface SettingSpec<T> {
  /** What the setting means, for `.env.example` (its comment lines; `\n` starts a new one). */
  readonly meaning: string;
  /** The value `.env.example` shows: the default, or '' when unset means what `meaning` says. */
  readonly example: string;
  /** The parser of the variable `name`; its messages name the variable. */
  readonly schema: (name: string) => z.ZodType<T, string | undefined>;
}

/** What a setting spec parses to. */
export type ValueOf<S> = S extends SettingSpec<infer T> ? T : never;

/**
 * A refusal from a parser or a family's build: which variable, and why. Thrown inside a schema's
 * transform and turned there into a zod issue on that variable.
 */
export class SettingProblem extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
  }
}

/** Refuses `variable` with `message` (the message must name the variable). */
export function refuse(variable: string, message: string): never {
  throw new SettingProblem(variable, message);
}

const rawText = (name: string) =>
  z
    .string({ error: `${name} must be text` })
    .optional()
    .transform((value): Raw => value?.trim() || undefined);

/** The building block of every setting: `parse` gets the trimmed text (undefined: unset). */
export function custom<T>(options: {
  meaning: string;
  example?: string;
  parse: (raw: Raw, name: string) => T;
}): SettingSpec<T> {
  return {
    meaning: options.meaning,
    example: options.example ?? '',
    schema: (name) =>
      rawText(name).transform((raw, ctx) => {
        try {
          return options.parse(raw, name);
        } catch (error) {
          if (!(error instanceof SettingProblem)) throw error;
          ctx.addIssue({ code: 'custom', message: error.message });
          return z.NEVER;
        }
      }),
  };
}

export function text(options: { meaning: string }): SettingSpec<string | null>;
export function text(options: { meaning: string; default: string }): SettingSpec<string>;
export function text(options: { meaning: string; default?: string }): SettingSpec<string | null> {
  return custom({
    meaning: options.meaning,
    example: options.default,
    parse: (raw) => raw ?? options.default ?? null,
  });
}

/** A secret that must be long enough to resist guessing; null when unset. Never echoed. */
export function secret(options: { meaning: string; minLength: number }): SettingSpec<string | null> {
  return custom({
    meaning: options.meaning,
    parse: (raw, name) => {
      if (raw !== undefined && raw.length < options.minLength) {
        refuse(name, `${name} must be at least ${options.minLength} characters long`);
      }
      return raw ?? null;
    },
  });
}

interface Range {
  meaning: string;
  default: number;
  min: number;
  max: number;
}

function inRange(name: string, value: number, { min, max }: Range): number {
  if (value < min || value > max) refuse(name, `${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

export function integer(options: Range): SettingSpec<number> {
  return custom({
    meaning: options.meaning,
    example: String(options.default),
    parse: (raw, name) => {
      if (raw === undefined) return options.default;
      if (!/^-?\d+$/.test(raw)) refuse(name, `${name} must be a whole number, got "${raw}"`);
      return inRange(name, Number(raw), options);
    },
  });
}

/** A whole number, or null when unset (what `meaning` says unset means: e.g. no cap). */
export function optionalInteger(options: Omit<Range, 'default'>): SettingSpec<number | null> {
  return custom({
    meaning: options.meaning,
    parse: (raw, name) => {
      if (raw === undefined) return null;
      if (!/^-?\d+$/.test(raw)) refuse(name, `${name} must be a whole number, got "${raw}"`);
      return inRange(name, Number(raw), { ...options, default: 0 });
    },
  });
}

/** A non-negative number, fractions allowed. */
export function decimal(options: Range): SettingSpec<number> {
  return custom({
    meaning: options.meaning,
    example: String(options.default),
    parse: (raw, name) => {
      if (raw === undefined) return options.default;
      const value = Number(raw);
      if (!Number.isFinite(value) || !/^\d*\.?\d+$/.test(raw)) {
        refuse(name, `${name} must be a number, got "${raw}"`);
      }
      return inRange(name, value, options);
    },
  });
}

/** true/false (also 1/0, yes/no); unset is false. */
export function flag(options: { meaning: string }): SettingSpec<boolean> {
  return custom({
    meaning: options.meaning,
    example: 'false',
    parse: (raw, name) => {
      if (raw === undefined || /^(0|false|no)$/i.test(raw)) return false;
      if (/^(1|true|yes)$/i.test(raw)) return true;
      return refuse(name, `${name} must be true or false, got "${raw}"`);
    },
  });
}

/** on/off; unset is on. */
export function onOff(options: { meaning: string }): SettingSpec<boolean> {
  return custom({
    meaning: options.meaning,
    example: 'on',
    parse: (raw, name) => {
      const value = (raw ?? 'on').toLowerCase();
      if (value !== 'on' && value !== 'off') refuse(name, `${name} must be on or off, got "${value}"`);
      return value === 'on';
    },
  });
}

/** One of a few words, case-insensitive. */
export function oneOf<const T extends string>(options: {
  meaning: string;
  values: readonly T[];
  default: T;
}): SettingSpec<T> {
  return custom({
    meaning: options.meaning,
    example: options.default,
    parse: (raw, name) => {
      const value = (raw ?? options.default).toLowerCase();
      if (!options.values.includes(value as T)) {
        refuse(name, `${name} must be one of ${options.values.join(', ')}, got "${value}"`);
      }
      return value as T;
    },
  });
}

/** An absolute http(s) URL without its trailing slashes. Credentials in it are never echoed. */
export function httpUrl(options: { meaning: string }): SettingSpec<string | null>;
export function httpUrl(options: { meaning: string; default: string }): SettingSpec<string>;
export function httpUrl(options: { meaning: string; default?: string }): SettingSpec<string | null> {
  return custom({
    meaning: options.meaning,
    example: options.default,
    parse: (raw, name) => {
      const value = raw ?? options.default;
      if (value === undefined) return null;
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        return refuse(name, `${name} must be an absolute URL, got "${withoutCredentials(value)}"`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        refuse(name, `${name} must be an http or https URL, got "${withoutCredentials(value)}"`);
      }
      return value.replace(/\/+$/, '');
    },
  });
}

/** A postgres:// URL; never echoed, as it may carry a password. */
export function postgresUrl(options: { meaning: string }): SettingSpec<string | null> {
  return custom({
    meaning: options.meaning,
    parse: (raw, name) => {
      if (raw === undefined) return null;
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        return refuse(name, `${name} must be a postgres:// URL`);
      }
      if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
        refuse(name, `${name} must be a postgres:// or postgresql:// URL, got ${url.protocol}//…`);
      }
      return raw;
    },
  });
}
