import { Logger } from '@nestjs/common';
import { createApp } from './app.factory';
import { ConfigError, loadConfigFromProcess } from './config/app-config';
import { gracefulShutdown } from './graceful-shutdown';

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
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    logger.log(`${signal}: shutting down (at most ${config.shutdownTimeoutMs} ms)`);
    gracefulShutdown(app, config, logger).then(
      (r) => {
        logger.log(
          `stopped: ${r.streams} live stream(s) closed, requests ${r.requestsFinished ? 'finished' : 'cut at the deadline'}, jobs ${r.jobsFinished ? 'finished' : 'cut at the deadline'}`,
        );
        process.exit(0);
      },
      (err: unknown) => {
        logger.error(`shutdown failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void bootstrap();
