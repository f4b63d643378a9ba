import type { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Lifecycle } from './common/lifecycle';
import type { AppConfig } from './config/app-config';
import { SchedulerService } from './scheduler/scheduler.service';
import { StreamService } from './stream/stream.service';

function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Stops the app in the order a load balancer and the data need, all within SHUTDOWN_TIMEOUT_MS:
 * 1. readiness answers 503 and no scheduled job starts any more;
 * 2. the live streams end (their clients reconnect elsewhere) and new ones are refused;
 * 3. the listener closes: no new connection, idle keep-alive ones closed, requests in flight
 *    finish (past the deadline their connections are cut);
 * 4. jobs in progress finish and release their leases (waited for with what is left of the time);
 * 5. Nest's shutdown hooks close Redis and the database pools.
 * Returns what it saw, for the log.
 */
export async function gracefulShutdown(
  app: NestFastifyApplication,
  config: AppConfig,
  logger: Logger,
): Promise<{ streams: number; requestsFinished: boolean; jobsFinished: boolean }> {
  const deadline = Date.now() + config.shutdownTimeoutMs;
  const left = () => Math.max(0, deadline - Date.now());
  app.get(Lifecycle).draining = true;
  const scheduler = app.get(SchedulerService);
  const jobs = scheduler.stop(config.shutdownTimeoutMs);
  const streams = app.get(StreamService).closeAll();
  const fastify = app.getHttpAdapter().getInstance();
  const closed = fastify.close();
  const requestsFinished = await within(closed, left());
  if (!requestsFinished) {
    logger.warn('requests still in flight at the shutdown deadline: their connections are closed');
    fastify.server.closeAllConnections();
    await closed;
  }
  const jobsFinished = await jobs; // bounded by the same deadline
  if (!jobsFinished) logger.warn('a scheduled job is still running at the shutdown deadline');
  await app.close();
  return { streams, requestsFinished, jobsFinished };
}
