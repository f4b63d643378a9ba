import { Module } from '@nestjs/common';
import { GuardService } from './guard.service';
import { RatesRepository } from './rates.repository';
import { RatesService } from './rates.service';
import { ReferenceHistoryRepository } from './reference-history.repository';
import { ReferenceHistoryService } from './reference-history.service';
import { ReferenceRateService } from './reference-rate.service';

@Module({
  providers: [
    RatesRepository,
    RatesService,
    ReferenceRateService,
    ReferenceHistoryRepository,
    ReferenceHistoryService,
    GuardService,
  ],
  exports: [RatesService, ReferenceRateService, ReferenceHistoryService, GuardService],
})
export class RatesModule {}
