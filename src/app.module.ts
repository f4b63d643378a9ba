import { type DynamicModule, Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { AlertsModule } from './alerts/alerts.module';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { CommonModule } from './common/common.module';
import { IdempotencyModule } from './common/idempotency/idempotency.module';
import { IN_MEMORY, RedisThrottlerStorage } from './common/throttling/redis-throttler.storage';
import { RATE_LIMIT_STATE } from './common/throttling/rate-limit.decorator';
import { buildThrottlerOptions } from './common/throttling/throttler-options';
import type { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { FundingModule } from './funding/funding.module';
import { HealthController } from './health/health.controller';
import { HouseModule } from './house/house.module';
import { AdminRatesModule } from './rates/admin-rates.module';
import { OffersModule } from './market/offers.module';
import { BackupsModule } from './backups/backups.module';
import { NotificationsModule } from './notifications/notifications.module';
import { ForecastModule } from './forecast/forecast.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { MarketModule } from './rates/market.module';
import { MetricsModule } from './metrics/metrics.module';
import { RatesModule } from './rates/rates.module';
import { ReportsModule } from './reports/reports.module';
import { SchedulerModule } from './scheduler/scheduler.module';
import { StreamModule } from './stream/stream.module';
import { TransactionsModule } from './transactions/transactions.module';
import { UsersModule } from './users/users.module';
import { WalletModule } from './wallet/wallet.module';
import { WatchlistModule } from './watchlist/watchlist.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    // one store for the throttler and for whoever reports on it (readiness, metrics)
    const redisStorage = config.rateLimit.redisUrl
      ? new RedisThrottlerStorage(config.rateLimit.redisUrl)
      : null;
    return {
      module: AppModule,
      global: true,
      providers: [{ provide: RATE_LIMIT_STATE, useValue: redisStorage ?? IN_MEMORY }],
      exports: [RATE_LIMIT_STATE],
      imports: [
        ConfigModule.forRoot(config),
        CommonModule,
        DatabaseModule,
        ThrottlerModule.forRoot(buildThrottlerOptions(config, redisStorage)),
        AuditModule,
        IdempotencyModule,
        NotificationsModule,
        AlertsModule,
        WatchlistModule,
        WalletModule,
        UsersModule,
        AuthModule,
        RatesModule,
        AdminRatesModule,
        MarketModule,
        ForecastModule,
        WebhooksModule,
        TransactionsModule,
        OffersModule,
        FundingModule,
        HouseModule,
        StreamModule,
        BackupsModule,
        ReportsModule,
        SchedulerModule,
        MetricsModule,
      ],
      controllers: [HealthController],
    };
  }
}
