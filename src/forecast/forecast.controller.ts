import { Controller, Get, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { Auth } from '../auth/auth.decorators';
import { RateLimit } from '../common/throttling/rate-limit.decorator';
import { type ForecastDto, ForecastQueryDto } from './dto/forecast.dto';
import { ForecastService } from './forecast.service';

@ApiTags('rates')
@Controller('forecast')
export class ForecastController {
  constructor(private readonly forecasts: ForecastService) {}

  /**
   * A forecast of a direction's reference for the `horizon` buckets after the newest one with samples,
   * from the hourly (or daily) history of the samples behind the reference (established contributors'
   * and the feeds'), with 80% and 95% prediction intervals, and a rolling-origin backtest of the same
   * model over the history next to the naive forecast's ("the next buckets = the last one"), which a
   * model must beat to be worth showing. Gaps (buckets without samples) are handled. Fewer than 48
   * buckets with samples: 404 NO_DATA. Cached until new samples arrive.
   */
  @Get('exchange-rate')
  @Auth()
  @RateLimit('history')
  @ApiNotFoundResponse({ description: 'NO_DATA: fewer than 48 buckets with samples' })
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED (HISTORY_RATE_LIMIT), with Retry-After' })
  forecast(@Query() q: ForecastQueryDto): Promise<ForecastDto> {
    return this.forecasts.forecast(q);
  }
}
