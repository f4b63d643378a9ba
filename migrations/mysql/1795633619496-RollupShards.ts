import { MigrationInterface, QueryRunner } from 'typeorm';

export class RollupShards1795633619496 implements MigrationInterface {
  name = 'RollupShards1795633619496';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE \`rate_hourly\` ADD \`shard\` smallint NOT NULL DEFAULT '0'`);
    await queryRunner.query(`ALTER TABLE \`rate_hourly\` DROP PRIMARY KEY`);
    await queryRunner.query(`ALTER TABLE \`rate_hourly\` ADD PRIMARY KEY (\`direction\`, \`bucket_start\`, \`shard\`)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    // An hour may have several shard rows: fold them into one row per hour before the key loses
    // its shard (open = earliest, close = latest by time then sample id; the rest sums, min, max).
    await queryRunner.query(`CREATE TABLE \`rate_hourly_folded\` AS
      SELECT x.direction AS direction, x.bucket_start AS bucket_start, SUM(x.sample_count) AS sample_count, SUM(x.volume_usd) AS volume_usd, SUM(x.rate_volume_sum) AS rate_volume_sum, SUM(x.rate_sum) AS rate_sum,
        MIN(x.min_rate) AS min_rate, MAX(x.max_rate) AS max_rate,
        MAX(CASE WHEN x.r_open = 1 THEN x.open_rate END) AS open_rate, MAX(CASE WHEN x.r_open = 1 THEN x.open_at END) AS open_at,
        MAX(CASE WHEN x.r_open = 1 THEN x.open_id END) AS open_id, MAX(CASE WHEN x.r_close = 1 THEN x.close_rate END) AS close_rate,
        MAX(CASE WHEN x.r_close = 1 THEN x.close_at END) AS close_at, MAX(CASE WHEN x.r_close = 1 THEN x.close_id END) AS close_id
      FROM (
        SELECT h.*,
          ROW_NUMBER() OVER (PARTITION BY h.direction, h.bucket_start ORDER BY h.open_at, h.open_id) AS r_open,
          ROW_NUMBER() OVER (PARTITION BY h.direction, h.bucket_start ORDER BY h.close_at DESC, h.close_id DESC) AS r_close
        FROM \`rate_hourly\` h
      ) x
      GROUP BY x.direction, x.bucket_start`);
    await queryRunner.query(`DELETE FROM \`rate_hourly\``);
    await queryRunner.query(`ALTER TABLE \`rate_hourly\` DROP PRIMARY KEY`);
    await queryRunner.query(`ALTER TABLE \`rate_hourly\` ADD PRIMARY KEY (\`direction\`, \`bucket_start\`)`);
    await queryRunner.query(`ALTER TABLE \`rate_hourly\` DROP COLUMN \`shard\``);
    await queryRunner.query(`INSERT INTO \`rate_hourly\` (direction, bucket_start, sample_count, volume_usd, rate_volume_sum, rate_sum, min_rate, max_rate, open_rate, open_at, open_id, close_rate, close_at, close_id) SELECT * FROM \`rate_hourly_folded\``);
    await queryRunner.query(`DROP TABLE \`rate_hourly_folded\``);
  }
}
