import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { err, ok, type Result } from '../../shared/result.js';
import { type Env, SettingProblem, type SettingSpec, type ValueOf } from './define.js';

/**
 * A family groups settings under one `.env.example` heading and builds its part of the `Config`
 * from their values; the `Config` is the families' parts together.
 */

/** What a family's build may read besides the environment (injectable, so tests need no files). */
export interface SettingsIo {
  readonly readText: (path: string) => string;
}

type Specs = Readonly<Record<string, SettingSpec<unknown>>>;
export type ValuesOf<S extends Specs> = { readonly [K in keyof S]: ValueOf<S[K]> };

export interface Family<Out> {
  /** The `.env.example` heading. */
  readonly title: string;
  readonly settings: readonly (SettingSpec<unknown> & { readonly name: string })[];
  /** Parses the family's variables from an environment and builds its part of the `Config`. */
  readonly schema: (io: SettingsIo) => z.ZodType<Out, Env>;
}

/** The part of the `Config` a family builds. */
export type FamilyOutput<F> = F extends Family<infer Out> ? Out : never;

/**
 * Declares a family: its settings, keyed by variable name (the name is written only there), and
 * how their values make its part of the `Config`. `build` may `refuse` a combination of values.
 */
export function family<S extends Specs, Out>(
  title: string,
  specs: S,
  build: (values: ValuesOf<S>, io: SettingsIo) => Out,
): Family<Out> {
  const shape = Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, spec.schema(name)]));
  return {
    title,
    settings: Object.entries(specs).map(([name, spec]) => ({ ...spec, name })),
    schema: (io) =>
      z.object(shape).transform((values, ctx) => {
        try {
          return build(values as ValuesOf<S>, io);
        } catch (error) {
          if (!(error instanceof SettingProblem)) throw error;
          ctx.addIssue({ code: 'custom', path: [error.variable], message: error.message });
          return z.NEVER;
        }
      }) as unknown as z.ZodType<Out, Env>,
  };
}

/** A start-up refusal: which variable, and why. */
export interface ConfigError {
  readonly variable: string;
  readonly message: string;
}

/**
 * Parses `env` with each family in turn and returns the first refusal, or the families' parts
 * together.
 */
export function parseFamilies<Out>(
  families: readonly Family<unknown>[],
  env: Env,
  io: SettingsIo = { readText: (path) => readFileSync(path, 'utf8') },
): Result<Out, ConfigError> {
  const parts: Record<string, unknown> = {};
  for (const family of families) {
    const parsed = family.schema(io).safeParse(env);
    if (!parsed.success) {
      const [issue] = parsed.error.issues;
      return err({ variable: String(issue?.path[0] ?? family.title), message: issue?.message ?? 'invalid' });
    }
    Object.assign(parts, parsed.data);
  }
  return ok(parts as Out);
}
