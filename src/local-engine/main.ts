import { startLocalEngine } from './index.js';

/**
 * Standalone entry (`tsx src/local-engine/main.ts`), for poking at the PicWish contract with curl or
 * pointing a separately running gateway at it. ENGINE_PORT picks the port (default: a free one);
 * ENGINE_HOST and ENGINE_API_KEY are optional; an ENGINE_HOST that is not loopback is refused
 * unless ENGINE_ALLOW_NON_LOOPBACK=true says so on purpose. It accepts image_file only (no
 * image_url): the gateway fetches and checks URLs itself.
 */

function portFromEnv(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 0;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`ENGINE_PORT must be an integer between 0 and 65535, got "${raw}"`);
    process.exit(1);
  }
  return port;
}

const engine = await startLocalEngine({
  port: portFromEnv(process.env.ENGINE_PORT),
  host: process.env.ENGINE_HOST || undefined,
  apiKey: process.env.ENGINE_API_KEY || undefined,
  allowNonLoopbackHost: process.env.ENGINE_ALLOW_NON_LOOPBACK === 'true',
}).catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
console.log(`Local background engine (procedural, not AI) listening at ${engine.url}`);
console.log(`X-API-KEY: ${engine.apiKey}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void engine.close().then(() => process.exit(0));
  });
}
