import { Controller, Get, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiTags } from '@nestjs/swagger';
import { Auth, CurrentUser, Public } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import {
  type AnalyticsDto,
  AnalyticsQueryDto,
  type ExchangeRateDto,
  type HistoryDto,
  HistoryQueryDto,
} from './dto/market.dto';
import { MarketService } from './market.service';

@ApiTags('rates')
@Controller()
export class MarketController {
  constructor(private readonly market: MarketService) {}

  /**
   * The market rate of each direction: the USD-volume-weighted average of its accepted (non-outlier)
   * samples over the last MARKET_RATE_WINDOW_HOURS; rates are null when there is no data.
   */
  @Get('exchangeRate')
  @Public()
  exchangeRate(): Promise<ExchangeRateDto> {
    return this.market.exchangeRate();
  }

  /**
   * Figures of one direction over a range (default: the last `default_range_hours` of your
   * preferences): count, min, max, plain and volume-weighted average, first and last rate and the
   * change between them. `scope=mine` covers only your own samples.
   */
  @Get('analytics/exchange-rate')
  @Auth()
  @ApiNotFoundResponse({ description: 'NO_DATA: no accepted samples in the range' })
  analytics(@CurrentUser() user: Principal, @Query() q: AnalyticsQueryDto): Promise<AnalyticsDto> {
    return this.market.analytics(user.id, q);
  }

  /**
   * Chart data: per UTC hour or day bucket that has samples (oldest first), the volume-weighted rate,
   * OHLC, count and USD volume. Bucket and range default to your preferences.
   */
  @Get('history/exchange-rate')
  @Auth()
  history(@CurrentUser() user: Principal, @Query() q: HistoryQueryDto): Promise<HistoryDto> {
    return this.market.history(user.id, q);
  }
}
