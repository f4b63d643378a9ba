import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { AlertsModule } from '../alerts/alerts.module';
import { BackupsModule } from '../backups/backups.module';
import { OffersModule } from '../market/offers.module';
import { StreamModule } from '../stream/stream.module';
import { WatchlistModule } from '../watchlist/watchlist.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { LeaseRepository } from './lease.repository';
import { LeaseService } from './lease.service';
import { SchedulerService } from './scheduler.service';

@Module({
  imports: [
    ScheduleModule.forRoot(),
    AlertsModule,
    WatchlistModule,
    OffersModule,
    BackupsModule,
    StreamModule,
    WebhooksModule,
  ],
  providers: [LeaseRepository, LeaseService, SchedulerService],
  exports: [LeaseService, SchedulerService],
})
export class SchedulerModule {}
