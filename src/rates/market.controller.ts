import { Controller, Get, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { Auth, CurrentUser, Public } from '../auth/auth.decorators';
import { RateLimit } from '../common/throttling/rate-limit.decorator';
import { ApiPaged, Paged, toPage } from '../common/pagination';
import type { Principal } from '../auth/principal';
import {
  type AnalyticsDto,
  AnalyticsQueryDto,
  type ExchangeRateDto,
  type HistoryDto,
  HistoryQueryDto,
  OfficialHistoryQueryDto,
  OfficialRateEntryDto,
  type OfficialRateNowDto,
  type ReferenceHistoryDto,
  ReferenceHistoryQueryDto,
} from './dto/market.dto';
import { MarketService } from './market.service';

@ApiTags('rates')
@Controller()
export class MarketController {
  constructor(private readonly market: MarketService) {}

  /**
   * The reference rate of each direction over the last MARKET_RATE_WINDOW_HOURS: the median over
   * contributors (each account counts once, with the volume-weighted average of its accepted samples
   * of at least RATE_MIN_SAMPLE_USD; each admin or feed sample is a contributor of its own), so one
   * account cannot move it. A rate is null with fewer than RATE_MIN_CONTRIBUTORS contributors.
   */
  @Get('exchangeRate')
  @Public()
  exchangeRate(): Promise<ExchangeRateDto> {
    return this.market.exchangeRate();
  }

  /**
   * The official rate in force (an admin sets it: PUT /admin/rates/official; e.g. the central bank's)
   * and how far the street reference is from it: `gap_percent` = (reference - official) / official
   * x 100 per direction. Fields are null when no official rate was set (or no reference is published,
   * for the gap). Never part of the street reference, never used for quotes.
   */
  @Get('exchangeRate/official')
  @Public()
  official(): Promise<OfficialRateNowDto> {
    return this.market.officialNow();
  }

  /** The official series, newest effective first; `from`/`to` bound `effective_at`. Total in X-Total-Count. */
  @Get('exchangeRate/official/history')
  @Public()
  @RateLimit('history')
  @ApiTooManyRequestsResponse({
    description: 'RATE_LIMITED (HISTORY_RATE_LIMIT per client IP), with Retry-After',
  })
  @ApiPaged(OfficialRateEntryDto)
  async officialHistory(@Query() q: OfficialHistoryQueryDto): Promise<Paged<OfficialRateEntryDto>> {
    const { rows, total } = await this.market.officialHistory(q, toPage(q));
    return new Paged(rows, total);
  }

  /**
   * The published reference rate itself over time: what GET /exchangeRate said, kept per minute
   * (rolled up by hour and day) from the moment it was published by any instance, never recomputed
   * from today's samples. `direction=mid` is the house's mid between the two directions, the series
   * its guard quotes from (QUOTE_GUARD_MINUTES). Each point: the last value of the bucket, the lowest
   * and highest, and the contributors behind the last.
   */
  @Get('exchangeRate/history')
  @Public()
  @RateLimit('history')
  @ApiTooManyRequestsResponse({
    description: 'RATE_LIMITED (HISTORY_RATE_LIMIT per client IP), with Retry-After',
  })
  referenceHistory(@Query() q: ReferenceHistoryQueryDto): Promise<ReferenceHistoryDto> {
    return this.market.referenceHistoryOf(q);
  }

  /**
   * Statistics of one direction's accepted samples over a range (default: the last
   * `default_range_hours` of your preferences): count, min, max, plain and volume-weighted average,
   * first and last rate and the change between them. These weigh samples by volume, unlike the
   * reference rate of GET /exchangeRate. `scope=mine` covers only your own samples.
   */
  @Get('analytics/exchange-rate')
  @Auth()
  @ApiNotFoundResponse({ description: 'NO_DATA: no accepted samples in the range' })
  analytics(@CurrentUser() user: Principal, @Query() q: AnalyticsQueryDto): Promise<AnalyticsDto> {
    return this.market.analytics(user.id, q);
  }

  /**
   * Chart data, statistics of the accepted samples: per UTC hour or day bucket that has samples
   * (oldest first), the volume-weighted rate, OHLC, count and USD volume (not the reference rate).
   * Bucket and range default to your preferences.
   */
  @Get('history/exchange-rate')
  @Auth()
  history(@CurrentUser() user: Principal, @Query() q: HistoryQueryDto): Promise<HistoryDto> {
    return this.market.history(user.id, q);
  }
}
