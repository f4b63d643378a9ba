import { toMajor, roundRate } from '../common/money';
import type { OfferDto, OwnOfferDto, TradeDto } from './dto/offer.dto';
import type { OfferEntity, OfferStatus } from './offer.entity';
import type { TradeEntity } from './trade.entity';

/** An OPEN offer past its expiry is EXPIRED to readers, before the sweep has closed it. */
export function effectiveStatus(o: OfferEntity, now: Date): OfferStatus {
  return o.status === 'OPEN' && o.expiresAt !== null && o.expiresAt <= now ? 'EXPIRED' : o.status;
}

export function toOfferDto(o: OfferEntity, now: Date): OfferDto {
  return {
    id: o.id,
    creator_user_id: o.creatorUserId,
    give_currency: o.giveCurrency,
    give_amount: toMajor(o.giveAmount),
    want_currency: o.wantCurrency,
    want_amount: toMajor(o.wantAmount),
    remaining_give_amount: toMajor(o.remainingGiveAmount),
    remaining_want_amount: toMajor(o.remainingWantAmount),
    rate: roundRate(o.rate),
    min_fill_amount: o.minFillAmount === null ? null : toMajor(o.minFillAmount),
    direction: o.giveCurrency === 'USD' ? 'usd_to_lbp' : 'lbp_to_usd',
    status: effectiveStatus(o, now),
    created_at: o.createdAt.toISOString(),
    expires_at: o.expiresAt ? o.expiresAt.toISOString() : null,
  };
}

export function toOwnOfferDto(o: OfferEntity, now: Date): OwnOfferDto {
  return {
    ...toOfferDto(o, now),
    filled_give_amount: toMajor(o.giveAmount - o.remainingGiveAmount),
    received_want_amount: toMajor(o.receivedWantAmount),
    refunded_amount: toMajor(o.refundedAmount),
    closed_at: o.closedAt ? o.closedAt.toISOString() : null,
  };
}

/** A trade as one of its two sides (`viewerId`) sees it. */
export function toTradeDto(t: TradeEntity, viewerId: number): TradeDto {
  return {
    id: t.id,
    offer_id: t.offerId,
    buyer_user_id: t.buyerUserId,
    seller_user_id: t.sellerUserId,
    maker_user_id: t.makerUserId,
    taker_user_id: t.takerUserId,
    usd_amount: toMajor(t.usdAmount),
    lbp_amount: toMajor(t.lbpAmount),
    rate: roundRate(t.rate),
    side: t.buyerUserId === viewerId ? 'buyer' : 'seller',
    created_at: t.createdAt.toISOString(),
  };
}
