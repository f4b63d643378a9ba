import { Module } from '@nestjs/common';
import { RatesRepository } from './rates.repository';
import { RatesService } from './rates.service';
import { ReferenceRateService } from './reference-rate.service';

@Module({
  providers: [RatesRepository, RatesService, ReferenceRateService],
  exports: [RatesService, ReferenceRateService],
})
export class RatesModule {}
