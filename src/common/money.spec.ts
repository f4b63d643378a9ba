import fc from 'fast-check';
import { formatMinor, toBigInt, toMajor, toMinor } from './money';

describe('money', () => {
  it('converts major to minor exactly, even where floats would not', () => {
    expect(toMinor(0.1)).toBe(10n);
    expect(toMinor(0.29)).toBe(29n);
    expect(toMinor(1e12)).toBe(100_000_000_000_000n);
    expect(toMinor(-12.5)).toBe(-1250n);
    expect(toMinor(89500)).toBe(8_950_000n);
  });

  it('refuses more than 2 decimals', () => {
    expect(() => toMinor(0.001)).toThrow(RangeError);
    expect(() => toMinor(1e-7)).toThrow(RangeError);
    expect(() => toMinor(Number.NaN)).toThrow(RangeError);
  });

  it('round-trips every 2-decimal amount up to 1e12', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -100_000_000_000_000n, max: 100_000_000_000_000n }), (minor) => {
        expect(toMinor(toMajor(minor))).toBe(minor);
        expect(formatMinor(minor)).toBe(toMajor(minor).toFixed(2));
      }),
    );
  });

  it('reads BIGINT columns from either driver', () => {
    expect(toBigInt('123456789012345678')).toBe(123456789012345678n);
    expect(toBigInt(42)).toBe(42n);
    expect(toBigInt(7n)).toBe(7n);
    expect(() => toBigInt(1.5)).toThrow(RangeError);
  });
});
