import { Module } from '@nestjs/common';
import { RatesModule } from '../rates/rates.module';
import { WatchlistController } from './watchlist.controller';
import { WatchlistRepository } from './watchlist.repository';
import { WatchlistService } from './watchlist.service';

/** Watched directions and thresholds; WatchlistService.sweep() is the scheduled job. */
@Module({
  imports: [RatesModule],
  controllers: [WatchlistController],
  providers: [WatchlistRepository, WatchlistService],
  exports: [WatchlistService],
})
export class WatchlistModule {}
