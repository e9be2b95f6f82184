import { flag, integer, text } from './define.js';
import { family } from './family.js';

/** `npm run engine` (src/local-engine/main.ts): the local engine as a server of its own. */
export const standaloneEngine = family(
  'Standalone local engine (npm run engine; the gateway reads none of these)',
  {
    ENGINE_PORT: integer({
      meaning: 'Port of the standalone engine (0 picks a free one).',
      default: 0,
      min: 0,
      max: 65535,
    }),
    ENGINE_HOST: text({
      meaning: 'Interface it binds; anything but loopback needs ENGINE_ALLOW_NON_LOOPBACK=true.',
      default: '127.0.0.1',
    }),
    ENGINE_API_KEY: text({ meaning: 'The X-API-KEY it accepts. Empty: a random one, printed at start.' }),
    ENGINE_ALLOW_NON_LOOPBACK: flag({
      meaning: 'true: bind beyond loopback on purpose (it is a test double: it answers anyone reaching it).',
    }),
  },
  (v) => ({
    port: v.ENGINE_PORT,
    host: v.ENGINE_HOST,
    apiKey: v.ENGINE_API_KEY ?? undefined,
    allowNonLoopbackHost: v.ENGINE_ALLOW_NON_LOOPBACK,
  }),
);
