import { http, observability, performance, trustedDocuments } from './http.js';
import { imageUrls, webhooks } from './outbound.js';
import { picwish } from './picwish.js';
import { results } from './results.js';
import { server } from './server.js';
import { sessions } from './sessions.js';
import { standaloneEngine } from './standalone-engine.js';
import { objectStorage, retired, scaleOut } from './storage.js';
import { tenants } from './tenants.js';

/**
 * Every setting, declared once. The typed `Config` (../config.ts), the parsing with its messages
 * and `.env.example` (`npm run settings:example`) all derive from these families.
 *
 * To add a setting: add one entry to its family (say `FOO_MS: integer({ meaning, default, min,
 * max })` in ./http.ts, the variable's name as the key) and hand its value on in that family's
 * build (`fooMs: v.FOO_MS`). Then run `npm run settings:example`. The `Config` type, the check of
 * the value (with a message naming the variable) and the `.env.example` entry follow; `npm test`
 * fails while `.env.example` disagrees. A value that does not fit a ready-made kind (./define.ts)
 * is a `custom({ meaning, parse })`; a rule across settings goes in the family's build, which may
 * `refuse(variable, message)`. A new family goes in GATEWAY_FAMILIES below.
 */

/** The gateway's families, in `.env.example` order; the first refusal found is reported. */
export const GATEWAY_FAMILIES = [
  server,
  picwish,
  results,
  imageUrls,
  webhooks,
  tenants,
  sessions,
  objectStorage,
  performance,
  http,
  trustedDocuments,
  observability,
  scaleOut,
  retired,
] as const;

/** Everything `.env.example` lists: the gateway's settings, then the standalone engine's. */
export const ALL_FAMILIES = [...GATEWAY_FAMILIES, standaloneEngine] as const;
