import type { DataSource, EntityManager } from 'typeorm';

/** The few places where SQL differs between MySQL/MariaDB and SQLite. */
export type Dialect = 'mysql' | 'sqlite';

export function dialectOf(ds: DataSource | EntityManager): Dialect {
  const options = 'options' in ds ? ds.options : ds.connection.options;
  return options.type === 'better-sqlite3' ? 'sqlite' : 'mysql';
}

/** A Date as a raw-query parameter: SQLite stores TypeORM datetimes as 'YYYY-MM-DD HH:MM:SS.SSS' UTC text. */
export function dbDate(dialect: Dialect, d: Date): Date | string {
  return dialect === 'sqlite' ? d.toISOString().replace('T', ' ').replace('Z', '') : d;
}

/** A datetime value read by a raw query (SQLite returns text, mysql2 a Date in UTC). */
export function readDbDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'string') return new Date(value.includes('T') ? value : `${value.replace(' ', 'T')}Z`);
  throw new TypeError('not a datetime value');
}

/** SQL for the UTC hour/day a datetime column falls in, as a datetime of the bucket start. */
export function bucketExpr(dialect: Dialect, column: string, bucket: 'hour' | 'day'): string {
  if (dialect === 'sqlite') {
    return bucket === 'hour'
      ? `strftime('%Y-%m-%d %H:00:00.000', ${column})`
      : `strftime('%Y-%m-%d 00:00:00.000', ${column})`;
  }
  return bucket === 'hour'
    ? `DATE_FORMAT(${column}, '%Y-%m-%d %H:00:00.000')`
    : `DATE_FORMAT(${column}, '%Y-%m-%d 00:00:00.000')`;
}

/** Start of the UTC hour of a date. */
export function hourStart(d: Date): Date {
  const t = new Date(d.getTime());
  t.setUTCMinutes(0, 0, 0);
  return t;
}

export function dayStart(d: Date): Date {
  const t = new Date(d.getTime());
  t.setUTCHours(0, 0, 0, 0);
  return t;
}

/**
 * An integer SQL expression read back as exact text: better-sqlite3 returns integers beyond 2^53 as
 * lossy numbers, mysql2 returns BIGINT/DECIMAL sums as strings already.
 */
export function exactInt(dialect: Dialect, expr: string): string {
  return dialect === 'sqlite' ? `CAST(${expr} AS TEXT)` : expr;
}
