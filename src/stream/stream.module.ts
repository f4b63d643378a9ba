import { Module } from '@nestjs/common';
import { MarketModule } from '../rates/market.module';
import { RatesModule } from '../rates/rates.module';
import { StreamController } from './stream.controller';
import { StreamTicketsRepository } from './stream-tickets.repository';
import { StreamService } from './stream.service';

/** Live updates (GET /stream): rates, the order book and each user's notifications, across instances. */
@Module({
  imports: [MarketModule, RatesModule],
  controllers: [StreamController],
  providers: [StreamTicketsRepository, StreamService],
  exports: [StreamService],
})
export class StreamModule {}
