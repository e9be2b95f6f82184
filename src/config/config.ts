import { isIP } from 'node:net';
import { err, type Result } from '../shared/result.js';
import type { Env } from './settings/define.js';
import { type ConfigError, type FamilyOutput, parseFamilies } from './settings/family.js';
import { GATEWAY_FAMILIES } from './settings/index.js';

export type { ConfigError } from './settings/family.js';
export type { LogLevel } from './settings/server.js';

type DeepReadonly<T> = T extends readonly (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** The families' parts of the `Config` together. */
type Parts<T extends readonly unknown[]> = T extends readonly [infer Head, ...infer Rest]
  ? FamilyOutput<Head> & Parts<Rest>
  : unknown;

/**
 * Everything the gateway reads from its environment, parsed once at start-up so that a bad value
 * stops the process with a message naming the variable instead of failing later in a request.
 * Declared in ./settings (each family builds its part), like `.env.example`.
 */
export type Config = DeepReadonly<Parts<typeof GATEWAY_FAMILIES>>;

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1';
  return false;
}

/**
 * Reads the configuration from `env` (the process environment by default); `readText` reads the
 * file named by `GATEWAY_API_KEYS_FILE` and is injectable so tests need no files.
 */
export function loadConfig(
  env: Env = process.env,
  readText?: (path: string) => string,
): Result<Config, ConfigError> {
  const config = parseFamilies<Config>(GATEWAY_FAMILIES, env, readText && { readText });
  if (!config.ok) return config;
  const { host, auth, identity } = config.value;
  if (
    auth.apiKeys.length === 0 &&
    identity.jwtIssuers.length === 0 &&
    !auth.allowAnonymous &&
    !isLoopback(host)
  ) {
    return err({
      variable: 'HOST',
      message: `HOST=${host} is reachable from other machines, but no GATEWAY_API_KEYS are set: anyone could spend the PicWish key. Set GATEWAY_API_KEYS, bind to 127.0.0.1, or set ALLOW_ANONYMOUS=true to accept anonymous use on purpose.`,
    });
  }
  return config;
}
