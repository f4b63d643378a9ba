import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { TransactionRunner } from '../database/transaction-runner';
import type { LeaseEntity } from './lease.entity';
import { LeaseRepository } from './lease.repository';
import { METRICS } from '../metrics/metrics';

/**
 * A database lease per job so that exactly one instance runs a sweep at a time; a holder that dies
 * is replaced once its lease expires. Sweeps stay idempotent anyway (conditional updates, unique keys).
 */
@Injectable()
export class LeaseService {
  private readonly logger = new Logger(LeaseService.name);
  /** This instance's identity as a lease holder. */
  readonly holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

  constructor(
    private readonly repo: LeaseRepository,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async tryAcquire(jobName: string, holder = this.holder): Promise<boolean> {
    const now = this.clock.now();
    const until = new Date(now.getTime() + this.config.scheduler.leaseSeconds * 1000);
    return this.tx.run(async (m) => {
      await this.repo.ensure(jobName, m);
      return this.repo.claim(jobName, holder, now, until, m);
    });
  }

  async release(jobName: string, holder = this.holder): Promise<void> {
    await this.tx.run((m) => this.repo.release(jobName, holder, this.clock.now(), m));
  }

  /** Runs `fn` only while holding the job's lease; returns whether it ran. */
  async runExclusive(jobName: string, fn: () => Promise<void>, holder = this.holder): Promise<boolean> {
    if (!(await this.tryAcquire(jobName, holder))) return false;
    METRICS.leaseHeld.set({ job: jobName }, 1);
    try {
      await fn();
    } catch (err) {
      this.logger.error(
        `job ${jobName} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
    } finally {
      await this.release(jobName, holder).catch(() => undefined);
      METRICS.leaseHeld.set({ job: jobName }, 0);
    }
    return true;
  }

  find(jobName: string): Promise<LeaseEntity | null> {
    return this.repo.find(jobName);
  }
}
