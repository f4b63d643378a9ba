/**
 * Money is integer minor units (cents) held in bigint: no float arithmetic ever touches an amount.
 * On the wire amounts are JSON numbers in major units with at most 2 decimals.
 */
export const CURRENCIES = ['USD', 'LBP'] as const;
export type Currency = (typeof CURRENCIES)[number];

export const MAX_AMOUNT_MAJOR = 1e12;

/**
 * The largest balance, in minor units: 7e15 (70 trillion major units). Above 2^46 major units a JSON
 * number can no longer carry every cent exactly, and SQLite reads integers exactly only up to 2^53.
 */
export const MAX_BALANCE_MINOR = 7_000_000_000_000_000n;

/**
 * A validated JSON number (at most 2 decimals, |x| <= 1e12) to minor units. Goes through the number's
 * shortest decimal representation, which is exactly what the client wrote for such values.
 */
export function toMinor(major: number): bigint {
  if (!Number.isFinite(major)) throw new RangeError('amount must be finite');
  const text = String(major);
  const m = /^(-)?(\d+)(?:\.(\d{1,2}))?$/.exec(text);
  if (!m) throw new RangeError(`amount ${text} has more than 2 decimals or is out of range`);
  const minor = BigInt(m[2]) * 100n + BigInt((m[3] ?? '').padEnd(2, '0'));
  return m[1] ? -minor : minor;
}

const MAX_SAFE_MINOR = BigInt(Number.MAX_SAFE_INTEGER);

/** Minor units to the JSON number in major units (exact for every amount the API accepts). */
export function toMajor(minor: bigint): number {
  // Below 2^53 the integer converts exactly and IEEE division is correctly rounded, so n / 100 is
  // the double nearest to the decimal n/100: the same number the text below parses to.
  if (minor <= MAX_SAFE_MINOR && minor >= -MAX_SAFE_MINOR) return Number(minor) / 100;
  const neg = minor < 0n;
  const abs = neg ? -minor : minor;
  const text = `${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
  return neg ? -Number(text) : Number(text);
}

/** Minor units to a decimal string ("12.50"), for CSV and logs. */
export function formatMinor(minor: bigint): string {
  const neg = minor < 0n;
  const abs = neg ? -minor : minor;
  return `${neg ? '-' : ''}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}

/** A BIGINT column value (string from mysql2, number or bigint from better-sqlite3) as bigint. */
export function toBigInt(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`unsafe integer from the database: ${value}`);
    return BigInt(value);
  }
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  if (value === null || value === undefined) return 0n;
  throw new RangeError(`not an integer (${typeof value})`);
}

/** The implied rate, LBP per USD, of two minor amounts (derived, so a float is fine here). */
export function impliedRate(usdMinor: bigint, lbpMinor: bigint): number {
  return Number(lbpMinor) / Number(usdMinor);
}

/** Rates (derived, LBP per USD) are shown with at most 6 decimals. */
export function roundRate(rate: number): number {
  return Math.round(rate * 1e6) / 1e6;
}

/** A rate (LBP per USD) as an exact integer of millionths: what conversions and valuations compute with. */
export function rateMicros(rate: number): bigint {
  if (!Number.isFinite(rate) || rate <= 0) throw new RangeError(`not a usable rate: ${rate}`);
  return BigInt(Math.round(rate * 1e6));
}

/** USD minor units in LBP minor units at a rate of `micros` millionths, rounded down (exact). */
export function usdToLbp(usdMinor: bigint, micros: bigint): bigint {
  return (usdMinor * micros) / 1_000_000n;
}

/** LBP minor units in USD minor units at a rate of `micros` millionths, rounded down (exact). */
export function lbpToUsd(lbpMinor: bigint, micros: bigint): bigint {
  return (lbpMinor * 1_000_000n) / micros;
}
