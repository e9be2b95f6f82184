import { loadConfig } from './config/config.js';
import { loadSceneTypes } from './config/scene-types.js';
import { startGateway } from './gateway/app.js';
import { createLogger } from './observability/logging.js';

/**
 * `npm start`: reads the environment, starts the gateway (on the local engine when no
 * PICWISH_API_KEY is set), and shuts down cleanly on SIGTERM/SIGINT. A bad setting stops it here
 * with a message naming the variable.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.ok) {
    process.stderr.write(`Configuration error (${config.error.variable}): ${config.error.message}\n`);
    process.exit(78);
  }
  const sceneTypes = loadSceneTypes(config.value.sceneTypesFile);
  if (!sceneTypes.ok) {
    process.stderr.write(`Configuration error (${sceneTypes.error.variable}): ${sceneTypes.error.message}\n`);
    process.exit(78);
  }
  const logger = createLogger(config.value.logLevel);
  const gateway = await startGateway(config.value, logger, sceneTypes.value);
  process.stdout.write(
    `PicWish background gateway: demo page at ${gateway.url}/, GraphiQL at ${gateway.url}/graphql\n`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    gateway.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`The gateway could not start: ${(error as Error).message}\n`);
  process.exit(1);
});
