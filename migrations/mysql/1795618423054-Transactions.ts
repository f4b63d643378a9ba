import { MigrationInterface, QueryRunner } from 'typeorm';

export class Transactions1795618423054 implements MigrationInterface {
  name = 'Transactions1795618423054';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE \`rate_hourly\` (\`direction\` varchar(16) NOT NULL, \`bucket_start\` datetime(3) NOT NULL, \`sample_count\` int NOT NULL, \`volume_usd\` bigint NOT NULL, \`rate_volume_sum\` double NOT NULL, \`rate_sum\` double NOT NULL, \`min_rate\` double NOT NULL, \`max_rate\` double NOT NULL, \`open_rate\` double NOT NULL, \`open_at\` datetime(3) NOT NULL, \`open_id\` int NOT NULL, \`close_rate\` double NOT NULL, \`close_at\` datetime(3) NOT NULL, \`close_id\` int NOT NULL, PRIMARY KEY (\`direction\`, \`bucket_start\`)) ENGINE=InnoDB`);
    await queryRunner.query(`CREATE TABLE \`rate_samples\` (\`id\` int NOT NULL AUTO_INCREMENT, \`direction\` varchar(16) NOT NULL, \`rate\` double NOT NULL, \`source\` varchar(16) NOT NULL, \`user_id\` int NULL, \`transaction_id\` int NULL, \`trade_id\` int NULL, \`usd_volume\` bigint NOT NULL, \`is_outlier\` tinyint NOT NULL DEFAULT 0, \`anomaly_reason\` varchar(300) NULL, \`anomaly_score\` double NULL, \`baseline_rate\` double NULL, \`deviation_percent\` double NULL, \`created_at\` datetime(3) NOT NULL, INDEX \`ix_rate_samples_transaction\` (\`transaction_id\`), INDEX \`ix_rate_samples_outlier_time\` (\`is_outlier\`, \`created_at\`), INDEX \`ix_rate_samples_user_dir_time\` (\`user_id\`, \`direction\`, \`created_at\`), INDEX \`ix_rate_samples_dir_time\` (\`direction\`, \`created_at\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
    await queryRunner.query(`CREATE TABLE \`transactions\` (\`id\` int NOT NULL AUTO_INCREMENT, \`user_id\` int NOT NULL, \`usd_amount\` bigint NOT NULL, \`lbp_amount\` bigint NOT NULL, \`usd_to_lbp\` tinyint NOT NULL, \`rate\` double NOT NULL, \`created_at\` datetime(3) NOT NULL, INDEX \`ix_transactions_time\` (\`created_at\`), INDEX \`ix_transactions_user_time\` (\`user_id\`, \`created_at\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX \`ix_transactions_user_time\` ON \`transactions\``);
    await queryRunner.query(`DROP INDEX \`ix_transactions_time\` ON \`transactions\``);
    await queryRunner.query(`DROP TABLE \`transactions\``);
    await queryRunner.query(`DROP INDEX \`ix_rate_samples_dir_time\` ON \`rate_samples\``);
    await queryRunner.query(`DROP INDEX \`ix_rate_samples_user_dir_time\` ON \`rate_samples\``);
    await queryRunner.query(`DROP INDEX \`ix_rate_samples_outlier_time\` ON \`rate_samples\``);
    await queryRunner.query(`DROP INDEX \`ix_rate_samples_transaction\` ON \`rate_samples\``);
    await queryRunner.query(`DROP TABLE \`rate_samples\``);
    await queryRunner.query(`DROP TABLE \`rate_hourly\``);
  }
}
