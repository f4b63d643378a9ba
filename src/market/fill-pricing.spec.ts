import fc from 'fast-check';
import { AppError } from '../common/errors/app-error';
import { MIN_PARTIAL_PAY, mulDivRound, type PricedOffer, priceFill } from './fill-pricing';

const offer = (give: bigint, want: bigint, minFill: bigint | null): PricedOffer => ({
  remainingGiveAmount: give,
  remainingWantAmount: want,
  minFillAmount: minFill,
  giveCurrency: 'LBP',
  wantCurrency: 'USD',
});

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof AppError ? err.code : 'not an AppError';
  }
};

describe('priceFill', () => {
  it('rounds half up', () => {
    expect(mulDivRound(1n, 1n, 2n)).toBe(1n);
    expect(mulDivRound(1n, 1n, 3n)).toBe(0n);
    expect(mulDivRound(2n, 1n, 3n)).toBe(1n);
    expect(mulDivRound(30_000_000n, 1117n, 100_000_000n)).toBe(335n);
  });

  it('the whole remainder pays exactly the remaining want side, whatever min_fill says', () => {
    const sut = offer(1000n, 7n, 999_999n);
    expect(priceFill(sut, 1000n)).toBe(7n);
  });

  it('refuses partial takes of whole-only offers, below min_fill, or too small to price', () => {
    expect(codeOf(() => priceFill(offer(1000n, 700n, null), 10n))).toBe('PARTIAL_FILL_NOT_ALLOWED');
    expect(codeOf(() => priceFill(offer(1000n, 700n, 100n), 99n))).toBe('FILL_TOO_SMALL');
    expect(codeOf(() => priceFill(offer(1_000_000n, 3n, 1n), 100n))).toBe('FILL_TOO_SMALL'); // pays 0
    // 44,750 LBP-cents at 89,500 would pay half a cent, rounded to a whole one: a 100% rate error
    expect(codeOf(() => priceFill(offer(8_950_000_00n, 10_000n, 1n), 44_750n))).toBe('FILL_TOO_SMALL');
    expect(codeOf(() => priceFill(offer(1000n, 700n, 100n), 900n))).toBe('FILL_TOO_SMALL'); // leaves 0.70
    expect(priceFill(offer(1000n, 700n, 100n), 500n)).toBe(350n);
  });

  it('any sequence of accepted fills pays exactly want_amount in total, each within half a cent of its share', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 2n, max: 10n ** 14n }),
        fc.bigInt({ min: 2n, max: 10n ** 14n }),
        fc.array(fc.double({ min: 0.0001, max: 1, noNaN: true }), { minLength: 1, maxLength: 30 }),
        (give, want, fractions) => {
          let o = offer(give, want, 1n);
          let paid = 0n;
          for (const f of fractions) {
            if (o.remainingGiveAmount === 0n) break;
            const fill = BigInt(Math.max(1, Math.floor(Number(o.remainingGiveAmount) * f)));
            const clamped = fill > o.remainingGiveAmount ? o.remainingGiveAmount : fill;
            let pay: bigint;
            try {
              pay = priceFill(o, clamped);
            } catch (err) {
              expect(err).toBeInstanceOf(AppError);
              continue; // refused: nothing changes
            }
            if (clamped !== o.remainingGiveAmount) {
              expect(pay).toBeGreaterThanOrEqual(MIN_PARTIAL_PAY);
              expect(o.remainingWantAmount - pay).toBeGreaterThanOrEqual(MIN_PARTIAL_PAY);
            }
            // |pay - fill * rw / rg| <= 1/2  <=>  |2 * pay * rg - 2 * fill * rw| <= rg
            if (clamped !== o.remainingGiveAmount) {
              const diff = 2n * pay * o.remainingGiveAmount - 2n * clamped * o.remainingWantAmount;
              expect(diff < 0n ? -diff : diff).toBeLessThanOrEqual(o.remainingGiveAmount);
            }
            paid += pay;
            o = {
              ...o,
              remainingGiveAmount: o.remainingGiveAmount - clamped,
              remainingWantAmount: o.remainingWantAmount - pay,
            };
            expect(o.remainingWantAmount).toBeGreaterThanOrEqual(0n);
            if (o.remainingGiveAmount > 0n) expect(o.remainingWantAmount).toBeGreaterThan(0n);
          }
          paid += priceFill(o, o.remainingGiveAmount); // the last taker takes the rest
          expect(paid).toBe(want);
        },
      ),
      { numRuns: 300 },
    );
  });
});
