import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { custom, httpUrl, integer, oneOf, refuse, text } from './define.js';
import { family } from './family.js';

/** The levels pino understands; anything else is refused at start-up. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const server = family(
  'Server',
  {
    PORT: integer({ meaning: 'Port to listen on (0 picks a free one).', default: 4000, min: 0, max: 65535 }),
    HOST: custom({
      meaning: 'Interface to bind. Anything but loopback needs GATEWAY_API_KEYS (or ALLOW_ANONYMOUS=true).',
      example: '127.0.0.1',
      parse: (raw, name) => {
        const host = raw ?? '127.0.0.1';
        if (!isIP(host.replace(/^\[|\]$/g, '')) && !/^[A-Za-z0-9.-]+$/.test(host)) {
          refuse(name, `${name} must be an IP address or host name, got "${host}"`);
        }
        return host;
      },
    }),
    PUBLIC_URL: httpUrl({
      meaning:
        'Absolute base URL for links the gateway hands out (signed result URLs). Default: where it listens.',
    }),
    LOG_LEVEL: oneOf({ meaning: LOG_LEVELS.join(' | '), values: LOG_LEVELS, default: 'info' }),
    NODE_ENV: text({ meaning: 'production hides error internals from clients.', default: 'development' }),
    DATA_DIR: text({
      meaning: 'Tasks (SQLite), stored results, upload spool and the generated signing secret live here.',
      default: './data',
    }),
  },
  (v) => ({
    port: v.PORT,
    host: v.HOST,
    /** Absolute base for links the gateway hands out (signed result URLs); null: where it listens. */
    publicUrl: v.PUBLIC_URL,
    dataDir: resolve(v.DATA_DIR),
    logLevel: v.LOG_LEVEL,
    nodeEnv: v.NODE_ENV,
  }),
);
