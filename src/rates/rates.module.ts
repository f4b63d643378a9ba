import { Module } from '@nestjs/common';
import { RatesRepository } from './rates.repository';
import { RatesService } from './rates.service';

@Module({
  providers: [RatesRepository, RatesService],
  exports: [RatesService],
})
export class RatesModule {}
