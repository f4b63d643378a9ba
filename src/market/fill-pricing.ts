import { BusinessRuleError } from '../common/errors/app-error';
import { formatMinor } from '../common/money';
import type { OfferEntity } from './offer.entity';

export type PricedOffer = Pick<
  OfferEntity,
  'remainingGiveAmount' | 'remainingWantAmount' | 'minFillAmount' | 'giveCurrency' | 'wantCurrency'
>;

/** a * b / c rounded half up, for non-negative bigints (c > 0). */
export function mulDivRound(a: bigint, b: bigint, c: bigint): bigint {
  return (2n * a * b + c) / (2n * c);
}

/**
 * What a take of `fill` (give side, minor units, 0 < fill <= remaining) pays on the want side. The take
 * of the whole remainder pays exactly the remaining want side, so over all fills the maker receives
 * exactly `want_amount`. A partial take pays its share of the remainder rounded half up, and must be
 * allowed (min_fill_amount set, fill at least it) and priceable (at least one cent, leaving at least
 * one cent for the rest). Throws the 422 to send otherwise.
 */
export function priceFill(offer: PricedOffer, fill: bigint): bigint {
  if (fill === offer.remainingGiveAmount) return offer.remainingWantAmount;
  if (offer.minFillAmount === null) {
    throw new BusinessRuleError('PARTIAL_FILL_NOT_ALLOWED', 'This offer can only be taken whole.', [
      { field: 'amount', message: 'omit it, or send the whole remaining_give_amount' },
    ]);
  }
  if (fill < offer.minFillAmount) {
    const min = formatMinor(offer.minFillAmount);
    throw new BusinessRuleError(
      'FILL_TOO_SMALL',
      `A partial take of this offer must be at least ${min} ${offer.giveCurrency}.`,
      [{ field: 'amount', message: `must be at least ${min} or the whole remainder` }],
    );
  }
  const pay = mulDivRound(fill, offer.remainingWantAmount, offer.remainingGiveAmount);
  if (pay < 1n || pay >= offer.remainingWantAmount) {
    throw new BusinessRuleError(
      'FILL_TOO_SMALL',
      `This amount cannot be priced in whole ${offer.wantCurrency} cents; take more, or the whole remainder.`,
      [{ field: 'amount', message: 'too small to price, or leaves a remainder worth less than 0.01' }],
    );
  }
  return pay;
}
