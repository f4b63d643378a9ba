import { Body, Controller, Delete, Get, Post, Query } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
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
import { Paged, toPage, ApiPaged } from '../common/pagination';
import { IdParam } from '../common/pipes/id-param';
import { RateLimit } from '../common/throttling/rate-limit.decorator';
import {
  AcceptOfferDto,
  CreateOfferDto,
  MyOfferQueryDto,
  type OfferAcceptedDto,
  type OfferCancelledDto,
  type OfferCreatedDto,
  OfferDto,
  OfferQueryDto,
  OwnOfferDto,
  TradeDto,
  TradeQueryDto,
} from './dto/offer.dto';
import { OffersService } from './offers.service';

const actorOf = (p: Principal) => ({ id: p.id, userName: p.userName });

@ApiTags('market')
@Controller('market')
export class OffersController {
  constructor(private readonly offers: OffersService) {}

  /**
   * Offer `give_amount` of one currency for `want_amount` of the other. The give side moves from your
   * balance into escrow (`*_held`) at once: 422 INSUFFICIENT_BALANCE when you lack it, 422 RATE_OUTLIER
   * when the implied rate is far off the market. With `min_fill_amount` others may take part of it.
   * Honours an Idempotency-Key; rate-limited per user (together with accepts).
   */
  @Post('offers')
  @Auth()
  @Idempotent()
  @RateLimit('offer')
  @Audit(AuditEvent.OFFER_CREATE)
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED, with Retry-After' })
  create(
    @CurrentUser() user: Principal,
    @Body() dto: CreateOfferDto,
    @ReqMeta() meta: RequestMeta,
    @IdempotencyKey() key?: string,
  ): Promise<OfferCreatedDto> {
    return this.offers.create(actorOf(user), dto, meta, key);
  }

  /**
   * Open offers (not expired), other people's unless `include_mine=true`; filter by `give_currency`,
   * sort by `created_at` (newest first) or `rate` (lowest first; `order` reverses). Your own offers in
   * the list carry your private fields too. Total in X-Total-Count.
   */
  @Get('offers')
  @Auth()
  @ApiPaged(OfferDto)
  async list(@CurrentUser() user: Principal, @Query() q: OfferQueryDto): Promise<Paged<OfferDto>> {
    const { rows, total } = await this.offers.listOpen(user.id, q, toPage(q));
    return new Paged(rows, total);
  }

  /** All your offers in any status (or `status`), newest first. */
  @Get('offers/mine')
  @Auth()
  @ApiPaged(OwnOfferDto)
  async mine(@CurrentUser() user: Principal, @Query() q: MyOfferQueryDto): Promise<Paged<OwnOfferDto>> {
    const { rows, total } = await this.offers.listMine(user.id, q, toPage(q));
    return new Paged(rows, total);
  }

  /**
   * One offer. Yours in any status, with your private fields; someone else's only while it is open
   * (otherwise 404).
   */
  @Get('offers/:id')
  @Auth()
  @ApiOkResponse({
    type: OfferDto,
    description:
      'The offer; `filled_give_amount`, `received_want_amount`, `refunded_amount` and `closed_at` only for its creator.',
  })
  @ApiNotFoundResponse({ description: 'OFFER_NOT_FOUND' })
  get(@CurrentUser() user: Principal, @IdParam() id: number): Promise<OfferDto | OwnOfferDto> {
    return this.offers.get(user.id, id);
  }

  /**
   * Cancels your open offer and returns the remaining escrow to your balance. Another user's offer →
   * 404; not open any more (taken, cancelled, expired) → 409 OFFER_NOT_OPEN.
   */
  @Delete('offers/:id')
  @Auth()
  @Audit(AuditEvent.OFFER_CANCEL)
  @ApiNotFoundResponse({ description: 'OFFER_NOT_FOUND (also for another user’s offer)' })
  @ApiConflictResponse({ description: 'OFFER_NOT_OPEN' })
  cancel(
    @CurrentUser() user: Principal,
    @IdParam() id: number,
    @ReqMeta() meta: RequestMeta,
  ): Promise<OfferCancelledDto> {
    return this.offers.cancel(actorOf(user), id, false, meta);
  }

  /**
   * Takes an offer, settling at once: you pay your share of the want side, receive that much of the
   * escrowed give side. `amount` (give currency) defaults to the whole remainder; a partial take needs
   * the offer's `min_fill_amount` and must pay, and leave, at least 1.00 of the want currency. Own offer → 422 OWN_OFFER; no longer open → 409 OFFER_NOT_OPEN;
   * more than is left → 409 OFFER_REMAINDER_TOO_SMALL; short of the want side → 422
   * INSUFFICIENT_BALANCE. Honours an Idempotency-Key; rate-limited per user.
   */
  @Post('offers/:id/accept')
  @Auth()
  @Idempotent()
  @RateLimit('offer')
  @Audit(AuditEvent.OFFER_ACCEPT)
  @ApiConflictResponse({ description: 'OFFER_NOT_OPEN or OFFER_REMAINDER_TOO_SMALL' })
  @ApiUnprocessableEntityResponse({
    description: 'OWN_OFFER, INSUFFICIENT_BALANCE, PARTIAL_FILL_NOT_ALLOWED or FILL_TOO_SMALL',
  })
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED, with Retry-After' })
  accept(
    @CurrentUser() user: Principal,
    @IdParam() id: number,
    @Body() dto: AcceptOfferDto,
    @ReqMeta() meta: RequestMeta,
    @IdempotencyKey() key?: string,
  ): Promise<OfferAcceptedDto> {
    return this.offers.accept(actorOf(user), id, dto ?? {}, meta, key);
  }

  /** Your trades on either side (`side` says which), newest first; `from`, `to`, `offer_id` filter. */
  @Get('trades')
  @Auth()
  @ApiPaged(TradeDto)
  async trades(@CurrentUser() user: Principal, @Query() q: TradeQueryDto): Promise<Paged<TradeDto>> {
    const { rows, total } = await this.offers.listTrades(user.id, q, toPage(q));
    return new Paged(rows, total);
  }
}
