import { Module } from '@nestjs/common';
import { GuardService } from './guard.service';
import { OfficialRateService } from './official-rate.service';
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
    OfficialRateService,
  ],
  exports: [RatesService, ReferenceRateService, ReferenceHistoryService, GuardService, OfficialRateService],
})
export class RatesModule {}
