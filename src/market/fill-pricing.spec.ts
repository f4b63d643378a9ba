import fc from 'fast-check';
import { AppError } from '../common/errors/app-error';
import { MIN_PARTIAL_PAY, mulDivCeil, type PricedOffer, priceFill, wantAfter } from './fill-pricing';

const offer = (give: bigint, want: bigint, minFill: bigint | null): PricedOffer => ({
  giveAmount: give,
  wantAmount: want,
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
  it('rounds up', () => {
    expect(mulDivCeil(1n, 1n, 2n)).toBe(1n);
    expect(mulDivCeil(1n, 1n, 3n)).toBe(1n);
    expect(mulDivCeil(3n, 1n, 3n)).toBe(1n);
    expect(mulDivCeil(0n, 1n, 3n)).toBe(0n);
    expect(mulDivCeil(30_000_000n, 1117n, 100_000_000n)).toBe(336n);
  });

  it('the whole remainder of an untouched offer pays exactly want_amount, whatever min_fill says', () => {
    const sut = offer(1000n, 7n, 999_999n);
    expect(priceFill(sut, 1000n)).toBe(7n);
  });

  it('refuses partial takes of whole-only offers, below min_fill, or too small to price', () => {
    expect(codeOf(() => priceFill(offer(1000n, 700n, null), 10n))).toBe('PARTIAL_FILL_NOT_ALLOWED');
    expect(codeOf(() => priceFill(offer(1000n, 700n, 100n), 99n))).toBe('FILL_TOO_SMALL');
    expect(codeOf(() => priceFill(offer(1_000_000n, 3n, 1n), 100n))).toBe('FILL_TOO_SMALL'); // pays 1 cent
    // 44,750 LBP-cents at 89,500 would pay half a cent, rounded up to a whole one
    expect(codeOf(() => priceFill(offer(8_950_000_00n, 10_000n, 1n), 44_750n))).toBe('FILL_TOO_SMALL');
    expect(codeOf(() => priceFill(offer(1000n, 700n, 100n), 900n))).toBe('FILL_TOO_SMALL'); // leaves 0.70
    expect(priceFill(offer(1000n, 700n, 100n), 500n)).toBe(350n);
  });

  it('a fill whose share is fractional pays the next whole minor unit', () => {
    // 100.00 USD for 8,950,050.00 LBP; 33.33 USD of it is worth 2,983,051.665 LBP: pays ...1.67
    expect(
      priceFill({ ...offer(10_000n, 895_005_000n, 100n), giveCurrency: 'USD', wantCurrency: 'LBP' }, 3_333n),
    ).toBe(298_305_167n);
  });

  it('no fill of any sequence pays the taker a better rate than the offer, and the maker gets at least want_amount', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 2n, max: 10n ** 14n }),
        fc.bigInt({ min: 2n, max: 10n ** 14n }),
        fc.array(fc.double({ min: 0.0001, max: 1, noNaN: true }), { minLength: 1, maxLength: 30 }),
        (give, want, fractions) => {
          let o = offer(give, want, 1n);
          let paid = 0n;
          let fills = 0n;
          const take = (fill: bigint, pay: bigint): void => {
            // pay / fill >= want / give  <=>  pay * give >= fill * want; and at most one unit over
            expect(pay * give).toBeGreaterThanOrEqual(fill * want);
            paid += pay;
            fills += 1n;
            o = {
              ...o,
              remainingGiveAmount: o.remainingGiveAmount - fill,
              remainingWantAmount: wantAfter(o, pay),
            };
          };
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
              expect((pay - 1n) * give).toBeLessThan(clamped * want); // rounded up by less than one unit
            }
            take(clamped, pay);
            if (o.remainingGiveAmount > 0n) expect(o.remainingWantAmount).toBeGreaterThan(0n);
          }
          if (o.remainingGiveAmount > 0n) take(o.remainingGiveAmount, priceFill(o, o.remainingGiveAmount));
          expect(o.remainingWantAmount).toBe(0n);
          expect(paid).toBeGreaterThanOrEqual(want);
          expect(paid - want).toBeLessThan(fills);
        },
      ),
      { numRuns: 300 },
    );
  });
});
