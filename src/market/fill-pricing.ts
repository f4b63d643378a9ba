import { BusinessRuleError } from '../common/errors/app-error';
import { formatMinor } from '../common/money';
import type { OfferEntity } from './offer.entity';

export type PricedOffer = Pick<
  OfferEntity,
  'remainingGiveAmount' | 'remainingWantAmount' | 'minFillAmount' | 'giveCurrency' | 'wantCurrency'
>;

/**
 * A partial take must pay, and leave for the rest of the offer, at least this many minor units (1.00)
 * of the want currency: rounding to the cent then moves a fill's rate by at most 0.5%.
 */
export const MIN_PARTIAL_PAY = 100n;

/** a * b / c rounded half up, for non-negative bigints (c > 0). */
export function mulDivRound(a: bigint, b: bigint, c: bigint): bigint {
  return (2n * a * b + c) / (2n * c);
}

/**
 * What a take of `fill` (give side, minor units, 0 < fill <= remaining) pays on the want side. The take
 * of the whole remainder pays exactly the remaining want side, so over all fills the maker receives
 * exactly `want_amount`. A partial take pays its share of the remainder rounded half up, and must be
 * allowed (min_fill_amount set, fill at least it) and priceable (paying at least MIN_PARTIAL_PAY and
 * leaving at least that for the rest). Throws the 422 to send otherwise.
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
  if (pay < MIN_PARTIAL_PAY || offer.remainingWantAmount - pay < MIN_PARTIAL_PAY) {
    throw new BusinessRuleError(
      'FILL_TOO_SMALL',
      `A partial take must be worth at least 1.00 ${offer.wantCurrency} and leave at least that much of the offer; take more, or the whole remainder.`,
      [
        {
          field: 'amount',
          message: `would pay ${formatMinor(pay)} ${offer.wantCurrency} and leave ${formatMinor(offer.remainingWantAmount - pay)}; each must be at least 1.00`,
        },
      ],
    );
  }
  return pay;
}
