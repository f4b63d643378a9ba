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

  it('gives the same number as the decimal text, on both sides of 2^53', () => {
    const viaText = (minor: bigint) => {
      const abs = minor < 0n ? -minor : minor;
      const n = Number(`${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`);
      return minor < 0n ? -n : n;
    };
    const safe = BigInt(Number.MAX_SAFE_INTEGER);
    fc.assert(
      fc.property(fc.bigInt({ min: -safe * 4n, max: safe * 4n }), (minor) => {
        expect(Object.is(toMajor(minor), viaText(minor))).toBe(true);
      }),
      { numRuns: 5000 },
    );
    for (const minor of [0n, 1n, -1n, 5n, 10n, 29n, 12345n, safe, -safe, safe + 1n, -safe - 1n]) {
      expect(Object.is(toMajor(minor), viaText(minor))).toBe(true);
    }
  });

  it('reads BIGINT columns from either driver', () => {
    expect(toBigInt('123456789012345678')).toBe(123456789012345678n);
    expect(toBigInt(42)).toBe(42n);
    expect(toBigInt(7n)).toBe(7n);
    expect(() => toBigInt(1.5)).toThrow(RangeError);
  });
});
