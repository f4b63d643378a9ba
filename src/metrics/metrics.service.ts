import { createServer, type Server } from 'node:http';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { timingSafeEqual } from 'node:crypto';
import { DataSource } from 'typeorm';
import { RATE_LIMIT_STATE } from '../common/throttling/rate-limit.decorator';
import type { RateLimitState } from '../common/throttling/redis-throttler.storage';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { TransactionRunner } from '../database/transaction-runner';
import { type GaugeReading, readGauge, registry } from './metrics';

interface MysqlPoolInternals {
  _allConnections?: { length: number };
  _freeConnections?: { length: number };
  _connectionQueue?: { length: number };
  config?: { connectionLimit?: number };
}

/**
 * Serves the metrics (GET /metrics for METRICS_TOKEN holders, or on METRICS_PORT bound to
 * 127.0.0.1) and reads the gauges that belong to the app rather than to a feature: the database
 * pool and where the rate-limit counters live.
 */
@Injectable()
export class MetricsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Metrics');
  private server: Server | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(RATE_LIMIT_STATE) private readonly rateLimits: RateLimitState,
    private readonly tx: TransactionRunner,
  ) {}

  onModuleInit(): void {
    readGauge(
      'exchange_db_pool_connections',
      'Database connections by state (in_use, idle) and requests waiting for one (waiting)',
      ['state'],
      () => this.pool(),
    );
    readGauge(
      'exchange_rate_limit_fallback',
      '1 while Redis is configured but unreachable, so the rate limits hold per instance; 0 otherwise',
      [],
      () => (this.rateLimits.mode === 'memory-fallback' ? 1 : 0),
    );
    const port = this.config.metrics.port;
    if (this.config.metrics.enabled && port > 0) {
      this.server = createServer((req, res) => {
        if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
          res.writeHead(404).end();
          return;
        }
        this.render().then(
          (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
          () => res.writeHead(500).end(),
        );
      });
      this.server.listen(port, '127.0.0.1', () =>
        this.logger.log(`metrics on http://127.0.0.1:${port}/metrics`),
      );
    }
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get enabled(): boolean {
    return this.config.metrics.enabled;
  }

  /** Whether a bearer token is METRICS_TOKEN (compared in constant time). */
  authorized(bearer: string | undefined): boolean {
    const token = this.config.metrics.token;
    if (!token || !bearer) return false;
    const a = Buffer.from(bearer);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  render(): Promise<string> {
    return registry.metrics();
  }

  get contentType(): string {
    return registry.contentType;
  }

  private pool(): GaugeReading {
    const state = (s: string, value: number) => ({ labels: { state: s }, value });
    if (this.dataSource.options.type === 'better-sqlite3') {
      // one connection; writers queue in the TransactionRunner
      const waiting = this.tx.queued;
      return [
        state('in_use', waiting > 0 ? 1 : 0),
        state('idle', waiting > 0 ? 0 : 1),
        state('waiting', Math.max(waiting - 1, 0)),
      ];
    }
    const driver = this.dataSource.driver as unknown as { pool?: MysqlPoolInternals };
    const pool = driver.pool;
    const all = pool?._allConnections?.length ?? 0;
    const free = pool?._freeConnections?.length ?? 0;
    return [
      state('in_use', all - free),
      state('idle', free),
      state('waiting', pool?._connectionQueue?.length ?? 0),
    ];
  }
}
