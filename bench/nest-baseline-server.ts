import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { openBareDb } from './bare-db';

/**
 * The pipeline baseline of `npm run bench`: a bare Nest + Fastify app (no global guards, no
 * interceptors, no hooks of ours) whose GET /health runs the same `SELECT 1` as the API's, through
 * the same driver, in its own process. Ours / this is what our request pipeline costs.
 */
const db = openBareDb(process.env);

@Controller()
class HealthController {
  @Get('health')
  async health(): Promise<{ status: string; db: string }> {
    await db.scope(null).all('SELECT 1');
    return { status: 'ok', db: 'up' };
  }
}

@Module({ controllers: [HealthController] })
class BareModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(BareModule, new FastifyAdapter(), {
    logger: false,
  });
  await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
