import { Logger } from '@nestjs/common';
import { createApp } from './app.factory';
import { ConfigError, loadConfigFromProcess } from './config/app-config';

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfigFromProcess();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`Configuration error: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  const logger = new Logger('Bootstrap');
  for (const w of config.warnings) logger.warn(w);
  const app = await createApp(config);
  await app.listen({ host: config.host, port: config.port });
  logger.log(
    `API on http://${config.host}:${config.port} (docs at /docs, database ${config.db.type}, version ${config.version})`,
  );
}

void bootstrap();
