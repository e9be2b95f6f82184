import { type FamilyOutput, parseFamilies } from '../config/settings/family.js';
import { standaloneEngine } from '../config/settings/standalone-engine.js';
import { startLocalEngine } from './index.js';

/**
 * Standalone entry (`tsx src/local-engine/main.ts`), for poking at the PicWish contract with curl or
 * pointing a separately running gateway at it, with the ENGINE_* settings (.env.example); an
 * ENGINE_HOST that is not loopback is refused unless ENGINE_ALLOW_NON_LOOPBACK=true says so on
 * purpose. It accepts image_file only (no image_url): the gateway fetches and checks URLs itself.
 */

const settings = parseFamilies<FamilyOutput<typeof standaloneEngine>>([standaloneEngine], process.env);
if (!settings.ok) {
  console.error(settings.error.message);
  process.exit(78);
}

const engine = await startLocalEngine(settings.value).catch((error: Error) => {
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
