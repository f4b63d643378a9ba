import { Module } from '@nestjs/common';
import { RatesModule } from '../rates/rates.module';
import { ForecastController } from './forecast.controller';
import { ForecastRepository } from './forecast.repository';
import { ForecastService } from './forecast.service';

/** Forecasts of the reference with prediction intervals and an honest backtest. */
@Module({
  imports: [RatesModule],
  controllers: [ForecastController],
  providers: [ForecastRepository, ForecastService],
})
export class ForecastModule {}
