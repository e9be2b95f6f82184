import { decimal, integer, secret } from './define.js';
import { family } from './family.js';

export const results = family(
  'Results',
  {
    FILES_SIGNING_SECRET: secret({
      meaning: 'HMAC secret for result links (32+ characters). Empty: generated once and kept in DATA_DIR.',
      minLength: 32,
    }),
    RESULT_URL_TTL_SECONDS: integer({
      meaning: 'How long a result link works; re-query the task for a fresh one.',
      default: 86_400,
      min: 10,
      max: 31_536_000,
    }),
    RESULT_RETENTION_DAYS: decimal({
      meaning: 'Tasks and their files older than this are purged (fractions allowed).',
      default: 30,
      min: 0.00001,
      max: 36_500,
    }),
  },
  (v) => ({
    files: {
      signingSecret: v.FILES_SIGNING_SECRET,
      urlTtlSeconds: v.RESULT_URL_TTL_SECONDS,
      retentionDays: v.RESULT_RETENTION_DAYS,
    },
  }),
);
