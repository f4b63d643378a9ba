import { Module } from '@nestjs/common';
import { AlertsModule } from '../alerts/alerts.module';
import { AdminRatesController } from './admin-rates.controller';
import { AdminRatesService } from './admin-rates.service';
import { DataQualityRepository } from './data-quality.repository';
import { RatesModule } from './rates.module';

/** Admin side of rate samples: manual samples, imports, outlier overrides, data quality. */
@Module({
  imports: [RatesModule, AlertsModule],
  controllers: [AdminRatesController],
  providers: [AdminRatesService, DataQualityRepository],
})
export class AdminRatesModule {}
