import { custom, decimal, httpUrl, integer, refuse, text } from './define.js';
import { family } from './family.js';

export const picwish = family(
  'PicWish',
  {
    PICWISH_API_KEY: text({
      meaning:
        'The PicWish API key. Empty: the built-in LOCAL engine (not AI) serves the whole flow offline.',
    }),
    PICWISH_API_KEYS: custom({
      meaning:
        'Or several keys, comma-separated (set one of the two): each gets its own PICWISH_QPS budget and\nscheduler; new tasks go to the key with the shortest queue and stay with it.',
      parse: (raw, name) => {
        const keys = (raw ?? '')
          .split(',')
          .map((key) => key.trim())
          .filter((key) => key !== '');
        if (new Set(keys).size !== keys.length) refuse(name, `${name} lists the same key twice`);
        return keys;
      },
    }),
    PICWISH_BASE_URL: httpUrl({
      meaning: "PicWish's API origin (another address only for a stand-in such as `npm run engine`).",
      default: 'https://techhk.aoscdn.com',
    }),
    PICWISH_TIMEOUT_MS: integer({
      meaning: 'Timeout of one call to PicWish, in milliseconds.',
      default: 30_000,
      min: 100,
      max: 600_000,
    }),
    PICWISH_QPS: decimal({
      meaning: 'Requests per second each key allows, creates and polls together (fractions allowed).',
      default: 2,
      min: 0.01,
      max: 1000,
    }),
    PICWISH_TASK_DEADLINE_MS: integer({
      meaning:
        'A task not finished this long after it was accepted fails (UPSTREAM_UNAVAILABLE or DEADLINE_EXCEEDED).',
      default: 300_000,
      min: 1_000,
      max: 86_400_000,
    }),
    PICWISH_CREDITS_PER_IMAGE: integer({
      meaning:
        "PicWish credits per generated image, for the tasks' estimatedCredits and creditsCharged fields.",
      default: 3,
      min: 0,
      max: 1_000_000,
    }),
    PICWISH_CUTOUT_CREDITS: integer({
      meaning: 'Credits per background removal (removeBackground) that came back.',
      default: 1,
      min: 0,
      max: 1_000_000,
    }),
    PICWISH_MAX_IMAGE_BYTES: integer({
      meaning:
        "Largest input sent to PicWish, in bytes (at most 20 MB, the upload cap). PicWish's docs say 20 MB,\nbut its state table names 15 MB for state -5: set 15728640 to be safe. Larger inputs are downscaled.",
      default: 20 * 1024 * 1024,
      min: 1024,
      max: 20 * 1024 * 1024,
    }),
    IMAGE_DECODE_BUDGET_MB: integer({
      meaning:
        'The most memory (MB) one decode of an input may hold at once. An interlaced PNG, a progressive\nJPEG or a WebP is decoded whole (not row by row); one needing more is refused from its header with\nIMAGE_TOO_LARGE (a 12000x8333 16-bit interlaced PNG would need 763 MB). 128 takes an interlaced\n4096x4096 RGBA PNG.',
      default: 128,
      min: 1,
      max: 4096,
    }),
    IMAGE_WORK_CONCURRENCY: integer({
      meaning:
        "Image decodes and rendition encodes running at once on one instance, shared fairly between\ntenants (#27). They run on libuv's thread pool (UV_THREADPOOL_SIZE, 4 unless set): keep this\nbelow it, so file reads and DNS always find a thread.",
      default: 2,
      min: 1,
      max: 64,
    }),
    IMAGE_URL_CONCURRENCY: integer({
      meaning: 'Image URL fetches running at once on one instance, shared fairly between tenants (#27).',
      default: 8,
      min: 1,
      max: 256,
    }),
    SCENE_TYPES_FILE: text({
      meaning:
        'JSON array of {id, name, description} templates served by `sceneTypes`. Empty: the built-in catalogue.',
    }),
    LOCAL_ENGINE_DURATION_MS: integer({
      meaning: 'Simulated run time of one task on the local engine (only without PICWISH_API_KEY).',
      default: 4_000,
      min: 0,
      max: 600_000,
    }),
  },
  (v) => {
    // Which of the two would win is a guess, so both is refused.
    if (v.PICWISH_API_KEY !== null && v.PICWISH_API_KEYS.length > 0) {
      refuse('PICWISH_API_KEYS', 'set PICWISH_API_KEYS or PICWISH_API_KEY, not both');
    }
    return {
      picwish: {
        /**
         * `PICWISH_API_KEYS` (several, comma-separated) or `PICWISH_API_KEY` (one): each key gets its
         * own QPS budget and scheduler. Empty: the gateway starts its local engine and points itself at it.
         */
        apiKeys: v.PICWISH_API_KEY === null ? v.PICWISH_API_KEYS : [v.PICWISH_API_KEY],
        baseUrl: v.PICWISH_BASE_URL,
        timeoutMs: v.PICWISH_TIMEOUT_MS,
        qps: v.PICWISH_QPS,
        taskDeadlineMs: v.PICWISH_TASK_DEADLINE_MS,
        /** `PICWISH_MAX_IMAGE_BYTES`: the largest input sent; bigger ones are fitted (downscaled). */
        maxImageBytes: v.PICWISH_MAX_IMAGE_BYTES,
        /**
         * `IMAGE_DECODE_BUDGET_MB` in bytes: the most one decode of an input may hold at once; an
         * interlaced PNG, progressive JPEG or WebP needing more is refused before decoding.
         */
        decodeBudgetBytes: v.IMAGE_DECODE_BUDGET_MB * 1024 * 1024,
        /** `IMAGE_WORK_CONCURRENCY`: decodes and rendition encodes at once, fair per tenant (#27). */
        workConcurrency: v.IMAGE_WORK_CONCURRENCY,
        /** `IMAGE_URL_CONCURRENCY`: image URL fetches at once, fair per tenant (#27). */
        urlConcurrency: v.IMAGE_URL_CONCURRENCY,
        /**
         * What PicWish charges, for the credit fields and metrics: `PICWISH_CREDITS_PER_IMAGE` per
         * generated image, `PICWISH_CUTOUT_CREDITS` per background removal that came back (#14).
         */
        credits: { perImage: v.PICWISH_CREDITS_PER_IMAGE, cutout: v.PICWISH_CUTOUT_CREDITS },
      },
      sceneTypesFile: v.SCENE_TYPES_FILE,
      engine: {
        /** Simulated run time of one task on the local engine. */
        durationMs: v.LOCAL_ENGINE_DURATION_MS,
      },
    };
  },
);
