import { Module } from '@nestjs/common';
import { AdminRatesController } from './admin-rates.controller';
import { AdminRatesService } from './admin-rates.service';
import { DataQualityRepository } from './data-quality.repository';
import { RatesModule } from './rates.module';

/** Admin side of rate samples: manual samples, imports, outlier overrides, data quality. */
@Module({
  imports: [RatesModule],
  controllers: [AdminRatesController],
  providers: [AdminRatesService, DataQualityRepository],
})
export class AdminRatesModule {}
