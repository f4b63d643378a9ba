import { Controller, Get, Inject } from '@nestjs/common';
import { ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Public } from '../auth/auth.decorators';
import { AppError } from '../common/errors/app-error';
import { Lifecycle } from '../common/lifecycle';
import { MaintenanceState } from '../common/maintenance';
import { RATE_LIMIT_STATE } from '../common/throttling/rate-limit.decorator';
import type { RateLimitMode, RateLimitState } from '../common/throttling/redis-throttler.storage';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ClusterMonitor } from '../database/cluster-monitor';

export class HealthDto {
  /** "ok" */
  status!: string;
  /** "up" */
  db!: string;
  version!: string;
}

export class LiveDto {
  /** "ok": the process answers. */
  status!: string;
}

export class ReadyDto {
  /** "ready" */
  status!: string;
  /** "up" */
  db!: string;
  /** "up", "down" (rate limits then hold per instance) or "not configured" (no REDIS_URL). */
  redis!: string;
  /** Where the rate-limit counters live now: redis, memory (single instance) or memory-fallback. */
  rate_limits!: RateLimitMode;
  /** Always false here: a restoring instance is not ready (503). */
  restoring!: boolean;
  /** With DB_CLUSTER_URLS: the Galera node ("host:port") taking this instance's writes now. */
  db_node?: string;
}

const DB_PING_TIMEOUT_MS = 2000;

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(RATE_LIMIT_STATE) private readonly rateLimits: RateLimitState,
    private readonly maintenance: MaintenanceState,
    private readonly lifecycle: Lifecycle,
    private readonly cluster: ClusterMonitor,
  ) {}

  /** A deadline shared by the pings of the same moment (one timer, not one per request). */
  private deadline: { at: number; passed: Promise<never> } | null = null;

  /** A promise that rejects 1.5 to 2 s (DB_PING_TIMEOUT_MS) from now. */
  private pingDeadline(): Promise<never> {
    const now = Date.now();
    if (!this.deadline || this.deadline.at - now < DB_PING_TIMEOUT_MS * 0.75) {
      const passed = new Promise<never>((_, reject) => {
        setTimeout(() => reject(new Error('db ping timeout')), DB_PING_TIMEOUT_MS).unref();
      });
      passed.catch(() => undefined); // also when no ping is waiting on it any more
      this.deadline = { at: now + DB_PING_TIMEOUT_MS, passed };
    }
    return this.deadline.passed;
  }

  private async dbUp(): Promise<boolean> {
    try {
      await Promise.race([this.dataSource.query('SELECT 1'), this.pingDeadline()]);
      return true;
    } catch {
      return false;
    }
  }

  /** The process and the database answer. */
  @Get()
  @Public()
  @ApiServiceUnavailableResponse({ description: 'The database does not answer (code DB_DOWN).' })
  async health(): Promise<HealthDto> {
    if (!(await this.dbUp())) throw new AppError(503, 'DB_DOWN', 'The database is not reachable.');
    return { status: 'ok', db: 'up', version: this.config.version };
  }

  /** Liveness: the process answers (restart it when this fails). Never touches the database. */
  @Get('live')
  @Public()
  live(): LiveDto {
    return { status: 'ok' };
  }

  /**
   * Readiness: send traffic here? Yes when the database answers, no restore is replacing the data
   * on this instance and it is not shutting down. Redis is reported but does not make the instance unready: without it
   * the rate limits keep working on this instance's own counters (`rate_limits: memory-fallback`),
   * and taking every instance out of the load balancer when Redis fails would be an outage. On a
   * Galera cluster (DB_CLUSTER_URLS), `db_node` names the node taking this instance's writes.
   */
  @Get('ready')
  @Public()
  @ApiServiceUnavailableResponse({
    description:
      'NOT_READY: the database does not answer, a restore is running, or the instance is shutting down (details name which).',
  })
  async ready(): Promise<ReadyDto> {
    const db = await this.dbUp();
    const restoring = this.maintenance.active;
    const draining = this.lifecycle.draining;
    if (!db || restoring || draining) {
      throw new AppError(503, 'NOT_READY', 'This instance is not ready for traffic.', [
        ...(db ? [] : [{ field: 'db', message: 'the database does not answer' }]),
        ...(restoring ? [{ field: 'restoring', message: 'a restore is replacing the data' }] : []),
        ...(draining ? [{ field: 'shutting_down', message: 'the instance is shutting down' }] : []),
      ]);
    }
    const mode = this.rateLimits.mode;
    return {
      status: 'ready',
      db: 'up',
      redis: mode === 'memory' ? 'not configured' : mode === 'redis' ? 'up' : 'down',
      rate_limits: mode,
      restoring: false,
      ...(this.cluster.node === null ? {} : { db_node: this.cluster.node }),
    };
  }
}
