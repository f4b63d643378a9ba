import { type Dialect, dbDate, hourStart } from '../database/dialect';

/** The rollup's shard count (rate-hourly.entity.ts re-exports it for the entity). */
export const ROLLUP_SHARDS = 8;

/** What the rollup needs of an accepted sample. */
export interface HourlySample {
  id: number;
  direction: string;
  rate: number;
  usdVolume: bigint;
  createdAt: Date;
}

/**
 * The one statement that adds an accepted sample to its hour's rollup row of its shard (insert or
 * merge, atomically). Pure (SQL text and parameters), so the benchmark's same-work baseline runs
 * exactly this statement too.
 */
export function hourlyUpsert(dialect: Dialect, s: HourlySample): { sql: string; params: unknown[] } {
  const bucket = dbDate(dialect, hourStart(s.createdAt));
  const at = dbDate(dialect, s.createdAt);
  const volume = s.usdVolume;
  const rv = s.rate * Number(volume);
  const params = [
    s.direction,
    bucket,
    s.id % ROLLUP_SHARDS,
    volume,
    rv,
    s.rate,
    s.rate,
    s.rate,
    s.rate,
    at,
    s.id,
    s.rate,
    at,
    s.id,
  ];
  const insert = `INSERT INTO rate_hourly (direction, bucket_start, shard, sample_count, volume_usd, rate_volume_sum,
      rate_sum, min_rate, max_rate, open_rate, open_at, open_id, close_rate, close_at, close_id)
      VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
  if (dialect === 'sqlite') {
    // SQLite evaluates every SET expression against the old row.
    return {
      sql: `${insert} ON CONFLICT (direction, bucket_start, shard) DO UPDATE SET
          sample_count = sample_count + 1,
          volume_usd = volume_usd + excluded.volume_usd,
          rate_volume_sum = rate_volume_sum + excluded.rate_volume_sum,
          rate_sum = rate_sum + excluded.rate_sum,
          min_rate = MIN(min_rate, excluded.min_rate),
          max_rate = MAX(max_rate, excluded.max_rate),
          open_rate = CASE WHEN excluded.open_at < open_at OR (excluded.open_at = open_at AND excluded.open_id < open_id) THEN excluded.open_rate ELSE open_rate END,
          open_id = CASE WHEN excluded.open_at < open_at OR (excluded.open_at = open_at AND excluded.open_id < open_id) THEN excluded.open_id ELSE open_id END,
          open_at = CASE WHEN excluded.open_at < open_at OR (excluded.open_at = open_at AND excluded.open_id < open_id) THEN excluded.open_at ELSE open_at END,
          close_rate = CASE WHEN excluded.close_at > close_at OR (excluded.close_at = close_at AND excluded.close_id > close_id) THEN excluded.close_rate ELSE close_rate END,
          close_id = CASE WHEN excluded.close_at > close_at OR (excluded.close_at = close_at AND excluded.close_id > close_id) THEN excluded.close_id ELSE close_id END,
          close_at = CASE WHEN excluded.close_at > close_at OR (excluded.close_at = close_at AND excluded.close_id > close_id) THEN excluded.close_at ELSE close_at END`,
      params,
    };
  }
  // MySQL assigns left to right and later expressions see earlier assignments: the *_rate and *_id
  // columns are set before the *_at column their condition reads.
  const earlier = '(VALUES(open_at) < open_at OR (VALUES(open_at) = open_at AND VALUES(open_id) < open_id))';
  const later =
    '(VALUES(close_at) > close_at OR (VALUES(close_at) = close_at AND VALUES(close_id) > close_id))';
  return {
    sql: `${insert} ON DUPLICATE KEY UPDATE
        sample_count = sample_count + 1,
        volume_usd = volume_usd + VALUES(volume_usd),
        rate_volume_sum = rate_volume_sum + VALUES(rate_volume_sum),
        rate_sum = rate_sum + VALUES(rate_sum),
        min_rate = LEAST(min_rate, VALUES(min_rate)),
        max_rate = GREATEST(max_rate, VALUES(max_rate)),
        open_rate = IF(${earlier}, VALUES(open_rate), open_rate),
        open_id = IF(${earlier}, VALUES(open_id), open_id),
        open_at = IF(${earlier}, VALUES(open_at), open_at),
        close_rate = IF(${later}, VALUES(close_rate), close_rate),
        close_id = IF(${later}, VALUES(close_id), close_id),
        close_at = IF(${later}, VALUES(close_at), close_at)`,
    params,
  };
}
