import { BusinessRuleError } from '../common/errors/app-error';
import { formatMinor } from '../common/money';
import type { OfferEntity } from './offer.entity';

export type PricedOffer = Pick<
  OfferEntity,
  | 'giveAmount'
  | 'wantAmount'
  | 'remainingGiveAmount'
  | 'remainingWantAmount'
  | 'minFillAmount'
  | 'giveCurrency'
  | 'wantCurrency'
>;

/**
 * A partial take must pay, and leave for the rest of the offer, at least this many minor units (1.00)
 * of the want currency: rounding up to the cent then costs a taker at most 1% over the offer's rate.
 */
export const MIN_PARTIAL_PAY = 100n;

/** a * b / c rounded up, for non-negative bigints (c > 0). */
export function mulDivCeil(a: bigint, b: bigint, c: bigint): bigint {
  return (a * b + c - 1n) / c;
}

/**
 * What a take of `fill` (give side, minor units, 0 < fill <= remaining) pays on the want side: the
 * fill at the offer's own rate (want_amount / give_amount), rounded **up**, against the taker, who
 * chose the amount; so no take, partial or last, ever gets a better rate than the offer's, by any
 * sizing. The take of the whole remainder pays that, or the remaining want side if it is more (an
 * offer partly filled under older rounding), so the maker receives at least `want_amount` in all
 * (at most one minor unit more per fill). A partial take must be allowed (min_fill_amount set, fill
 * at least it) and priceable (paying at least MIN_PARTIAL_PAY and leaving at least that for the
 * rest). Throws the 422 to send otherwise.
 */
export function priceFill(offer: PricedOffer, fill: bigint): bigint {
  const atOfferRate = mulDivCeil(fill, offer.wantAmount, offer.giveAmount);
  if (fill === offer.remainingGiveAmount)
    return atOfferRate > offer.remainingWantAmount ? atOfferRate : offer.remainingWantAmount;
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
  const pay = atOfferRate;
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

/** The want side still owed after a take (never below zero: a last take may pay a unit more). */
export function wantAfter(offer: Pick<OfferEntity, 'remainingWantAmount'>, pay: bigint): bigint {
  return offer.remainingWantAmount > pay ? offer.remainingWantAmount - pay : 0n;
}
