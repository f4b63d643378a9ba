import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { MarketController } from './market.controller';
import { MarketRepository } from './market.repository';
import { MarketService } from './market.service';
import { RatesModule } from './rates.module';

/** Market rate, analytics and history: read-only figures over the samples and their hourly rollup. */
@Module({
  imports: [UsersModule, RatesModule],
  controllers: [MarketController],
  providers: [MarketRepository, MarketService],
  exports: [MarketService],
})
export class MarketModule {}
