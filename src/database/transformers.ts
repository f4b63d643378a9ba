import type { ValueTransformer } from 'typeorm';
import { toBigInt } from '../common/money';

/** BIGINT <-> bigint, whatever the driver returns (mysql2: string, better-sqlite3: number). */
export const bigintTransformer: ValueTransformer = {
  // Both drivers bind bigint exactly (mysql2 escapes it as a numeric literal, better-sqlite3 natively).
  to: (value: bigint | null | undefined) => value,
  from: (value: unknown) => (value === null || value === undefined ? value : toBigInt(value)),
};

/** DOUBLE/REAL <-> number (mysql2 may hand back strings for some numeric types). */
export const numberTransformer: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: unknown) => (value === null || value === undefined ? value : Number(value)),
};
