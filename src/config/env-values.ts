import { withoutCredentials } from '../shared/secrets.js';

/**
 * Readers of single environment values, shared by every part of the configuration: each returns
 * the parsed value or throws a ConfigProblem naming the variable, which loadConfig turns into one
 * start-up refusal.
 */

export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigProblem extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
  }
}

export function text(env: Env, name: string): string | null {
  const value = env[name]?.trim();
  return value ? value : null;
}

export function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = text(env, name);
  if (raw === null) return fallback;
  if (!/^-?\d+$/.test(raw)) throw new ConfigProblem(name, `${name} must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max)
    throw new ConfigProblem(name, `${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

export function decimal(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = text(env, name);
  if (raw === null) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || !/^\d*\.?\d+$/.test(raw)) {
    throw new ConfigProblem(name, `${name} must be a number, got "${raw}"`);
  }
  if (value < min || value > max)
    throw new ConfigProblem(name, `${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

export function boolean(env: Env, name: string): boolean {
  const raw = text(env, name);
  if (raw === null) return false;
  if (/^(1|true|yes)$/i.test(raw)) return true;
  if (/^(0|false|no)$/i.test(raw)) return false;
  throw new ConfigProblem(name, `${name} must be true or false, got "${raw}"`);
}

export function onOff(env: Env, name: string): boolean {
  const raw = (text(env, name) ?? 'on').toLowerCase();
  if (raw === 'on') return true;
  if (raw === 'off') return false;
  throw new ConfigProblem(name, `${name} must be on or off, got "${raw}"`);
}

export function httpUrl(env: Env, name: string, fallback: string | null): string | null {
  const raw = text(env, name) ?? fallback;
  if (raw === null) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigProblem(name, `${name} must be an absolute URL, got "${withoutCredentials(raw)}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigProblem(name, `${name} must be an http or https URL, got "${withoutCredentials(raw)}"`);
  }
  return raw.replace(/\/+$/, '');
}

export function postgresUrl(env: Env, name: string): string | null {
  const raw = text(env, name);
  if (raw === null) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Not echoed: the URL may carry a password.
    throw new ConfigProblem(name, `${name} must be a postgres:// URL`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigProblem(
      name,
      `${name} must be a postgres:// or postgresql:// URL, got ${url.protocol}//…`,
    );
  }
  return raw;
}
