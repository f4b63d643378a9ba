import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { AlertsService } from '../alerts/alerts.service';
import { IdempotencyService } from '../common/idempotency/idempotency.service';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { BackupsService } from '../backups/backups.service';
import { OffersService } from '../market/offers.service';
import { WatchlistService } from '../watchlist/watchlist.service';
import { LeaseService } from './lease.service';
import { MaintenanceState } from '../common/maintenance';

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
    ];
  }

  onApplicationBootstrap(): void {
    if (!this.config.scheduler.enabled) return;
    for (const job of this.jobs()) {
      const cronJob = CronJob.from({
        cronTime: job.cron,
        timeZone: 'UTC',
        onTick: () => void this.runJob(job.name),
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
    if (this.maintenance.active) {
      this.logger.log(`job ${name} skipped: a restore is running`);
      return false;
    }
    return this.leases.runExclusive(
      name,
      async () => {
        await job.run();
      },
      holder,
    );
  }
}
