import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { AlertsService } from '../alerts/alerts.service';
import { IdempotencyService } from '../common/idempotency/idempotency.service';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { BackupsService } from '../backups/backups.service';
import { OffersService } from '../market/offers.service';
import { StreamService } from '../stream/stream.service';
import { WatchlistService } from '../watchlist/watchlist.service';
import { LeaseService } from './lease.service';
import { WebhookDispatcher } from '../webhooks/webhook-dispatcher';
import { MaintenanceState } from '../common/maintenance';
import { METRICS } from '../metrics/metrics';

export interface JobDefinition {
  name: string;
  cron: string;
  run: () => Promise<unknown>;
}

/**
 * The scheduled jobs: thin calls into feature services, each under its lease. Registered only when
 * SCHEDULER_ENABLED; tests call runJob() directly with an injectable clock.
 */
@Injectable()
export class SchedulerService implements OnApplicationBootstrap {
  private readonly logger = new Logger(SchedulerService.name);
  /** Job runs in progress (a shutdown waits for them: they hold a lease). */
  private readonly running = new Set<Promise<boolean>>();
  private stopped = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: SchedulerRegistry,
    private readonly leases: LeaseService,
    private readonly idempotency: IdempotencyService,
    private readonly alerts: AlertsService,
    private readonly watchlist: WatchlistService,
    private readonly offers: OffersService,
    private readonly backups: BackupsService,
    private readonly maintenance: MaintenanceState,
    private readonly streams: StreamService,
    private readonly webhooks: WebhookDispatcher,
  ) {}

  jobs(): JobDefinition[] {
    const cron = this.config.scheduler.cron;
    const backupCron = this.config.backup.cron;
    const backup: JobDefinition[] = backupCron
      ? [
          {
            name: 'backup',
            cron: backupCron,
            run: () => this.backups.backup({ actor: null, via: 'schedule' }),
          },
        ]
      : [];
    return [
      ...backup,
      { name: 'alerts-sweep', cron: cron.alertsSweep, run: () => this.alerts.sweep() },
      { name: 'watchlist-sweep', cron: cron.watchlistSweep, run: () => this.watchlist.sweep() },
      { name: 'offer-expiry', cron: cron.offerExpiry, run: () => this.offers.expireDue() },
      { name: 'idempotency-purge', cron: cron.idempotencyPurge, run: () => this.idempotency.purgeExpired() },
      {
        name: 'stream-ticket-purge',
        cron: cron.streamTicketPurge,
        run: () => this.streams.purgeExpiredTickets(),
      },
      // retries when due, and what an instance that died mid-attempt left (claims run out)
      { name: 'webhook-delivery', cron: cron.webhookSweep, run: () => this.webhooks.sweep() },
    ];
  }

  onApplicationBootstrap(): void {
    if (!this.config.scheduler.enabled) return;
    for (const job of this.jobs()) {
      const cronJob = CronJob.from({
        cronTime: job.cron,
        timeZone: 'UTC',
        onTick: () => void this.tick(job.name),
      });
      this.registry.addCronJob(job.name, cronJob);
      cronJob.start();
      this.logger.log(`job ${job.name} scheduled (${job.cron} UTC)`);
    }
  }

  /**
   * Runs one job now if this instance gets its lease; returns whether it ran. Not while a restore is
   * replacing the data here (maintenance): the job's writes could fall between the restore's safety
   * backup and its commit and be lost; the next tick runs it.
   */
  async runJob(name: string, holder?: string): Promise<boolean> {
    const job = this.jobs().find((j) => j.name === name);
    if (!job) throw new Error(`unknown job ${name}`);
    if (this.stopped) return false;
    const run = this.runUnderLease(job, holder);
    this.running.add(run);
    try {
      return await run;
    } finally {
      this.running.delete(run);
    }
  }

  /**
   * What a cron timer calls: the job's run, and never a rejection. A tick while the database is
   * away (its lease cannot even be asked for: a Galera node just lost, an outage) is logged and
   * counted as failed; the next tick tries again. Left unhandled, such a rejection would end the
   * whole process (Node's default), taking every request with it over a blip.
   */
  async tick(name: string): Promise<boolean> {
    try {
      return await this.runJob(name);
    } catch (err) {
      this.logger.warn(`job ${name} not run: ${err instanceof Error ? err.message : String(err)}`);
      METRICS.jobRuns.inc({ job: name, outcome: 'failed' });
      return false;
    }
  }

  /**
   * A shutdown: no job starts from now on (the cron timers stop), and the runs in progress are
   * waited for up to `timeoutMs` (each releases its lease when it ends). Returns whether they ended.
   */
  async stop(timeoutMs: number): Promise<boolean> {
    this.stopped = true;
    for (const [name, job] of this.registry.getCronJobs()) {
      void job.stop();
      this.registry.deleteCronJob(name);
    }
    if (this.running.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const ended = Promise.allSettled([...this.running]).then(() => true);
    try {
      return await Promise.race([ended, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async runUnderLease(job: JobDefinition, holder?: string): Promise<boolean> {
    const name = job.name;
    if (this.maintenance.active) {
      this.logger.log(`job ${name} skipped: a restore is running`);
      METRICS.jobRuns.inc({ job: name, outcome: 'skipped' });
      return false;
    }
    const started = process.hrtime.bigint();
    let outcome = 'ok';
    const ran = await this.leases.runExclusive(
      name,
      async () => {
        try {
          await job.run();
        } catch (err) {
          outcome = 'failed';
          throw err; // the lease logs it
        }
      },
      holder,
    );
    if (!ran) outcome = 'skipped';
    METRICS.jobRuns.inc({ job: name, outcome });
    if (ran)
      METRICS.jobDuration.observe({ job: name, outcome }, Number(process.hrtime.bigint() - started) / 1e9);
    return ran;
  }
}
