import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { AuditEvent } from '../audit/audit-events';
import { Audit } from '../audit/audit.decorator';
import { Auth, CurrentUser } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { ReqMeta, type RequestMeta } from '../common/http/request-meta';
import { IdempotencyKey, Idempotent } from '../common/idempotency/idempotent.decorator';
import { ApiPaged, Paged, PageQueryDto, toPage } from '../common/pagination';
import { RateLimit } from '../common/throttling/rate-limit.decorator';
import {
  ConversionDto,
  ConvertDto,
  type ConvertedDto,
  CreateQuoteDto,
  type HouseStatusDto,
  type QuoteDto,
} from './dto/house.dto';
import { toConversionDto } from './house.mapper';
import { HouseService } from './house.service';

const actorOf = (p: Principal) => ({ id: p.id, userName: p.userName });

/** Conversions against the house, only at its own locked quote. */
@ApiTags('house')
@Controller()
export class HouseController {
  constructor(private readonly house: HouseService) {}

  /**
   * What the house pays for `from_amount` now: the reference mid minus (you give USD: the bid) or plus
   * (you give LBP: the ask) HOUSE_SPREAD_PERCENT, rounded down to the cent, held for
   * QUOTE_TTL_SECONDS and usable once with POST /wallet/convert. 422 NO_QUOTE without a trustworthy
   * reference rate (too few contributors, or stale). Rate-limited per user with the conversions.
   */
  @Post('quotes')
  @Auth()
  @RateLimit('quote')
  @Audit(AuditEvent.QUOTE_CREATE)
  @ApiUnprocessableEntityResponse({
    description: 'NO_QUOTE, or AMOUNT_OUT_OF_RANGE (pays under 0.01 or over 1e12)',
  })
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED, with Retry-After' })
  quote(
    @CurrentUser() user: Principal,
    @Body() dto: CreateQuoteDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<QuoteDto> {
    return this.house.quote(actorOf(user), dto, meta);
  }

  /**
   * Execute one of your quotes, exactly once: your from side goes to the house and its to side to
   * you, at the quote's rate, in one transaction. Someone else's or an unknown quote → 404; used or
   * expired → 409 QUOTE_USED / QUOTE_EXPIRED; short → 422 INSUFFICIENT_BALANCE; past the house's
   * limit → 422 HOUSE_LIMIT. Conversions are not rate samples.
   */
  @Post('wallet/convert')
  @Auth()
  @Idempotent()
  @RateLimit('quote')
  @Audit(AuditEvent.CONVERSION_CREATE)
  @ApiNotFoundResponse({ description: 'QUOTE_NOT_FOUND: unknown, or someone else’s' })
  @ApiConflictResponse({ description: 'QUOTE_USED or QUOTE_EXPIRED' })
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED, with Retry-After' })
  convert(
    @CurrentUser() user: Principal,
    @Body() dto: ConvertDto,
    @ReqMeta() meta: RequestMeta,
    @IdempotencyKey() key?: string,
  ): Promise<ConvertedDto> {
    return this.house.convert(actorOf(user), dto, meta, key);
  }

  /** Your conversions, newest first; total in X-Total-Count. */
  @Get('wallet/conversions')
  @Auth()
  @ApiPaged(ConversionDto)
  async conversions(@CurrentUser() user: Principal, @Query() q: PageQueryDto): Promise<Paged<ConversionDto>> {
    const { rows, total } = await this.house.listConversions(user.id, toPage(q));
    return new Paged(rows.map(toConversionDto), total);
  }

  /** The house now: the reference mid with its bid and ask, its net position and limit, conversions in 24 h. */
  @Get('admin/house')
  @Auth({ roles: ['ADMIN'] })
  status(): Promise<HouseStatusDto> {
    return this.house.status();
  }
}
