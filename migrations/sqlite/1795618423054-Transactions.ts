import { MigrationInterface, QueryRunner } from 'typeorm';

export class Transactions1795618423054 implements MigrationInterface {
  name = 'Transactions1795618423054';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "rate_hourly" ("direction" varchar(16) NOT NULL, "bucket_start" datetime(3) NOT NULL, "sample_count" integer NOT NULL, "volume_usd" bigint NOT NULL, "rate_volume_sum" double NOT NULL, "rate_sum" double NOT NULL, "min_rate" double NOT NULL, "max_rate" double NOT NULL, "open_rate" double NOT NULL, "open_at" datetime(3) NOT NULL, "open_id" integer NOT NULL, "close_rate" double NOT NULL, "close_at" datetime(3) NOT NULL, "close_id" integer NOT NULL, PRIMARY KEY ("direction", "bucket_start"))`);
    await queryRunner.query(`CREATE TABLE "rate_samples" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "direction" varchar(16) NOT NULL, "rate" double NOT NULL, "source" varchar(16) NOT NULL, "user_id" integer, "transaction_id" integer, "trade_id" integer, "usd_volume" bigint NOT NULL, "is_outlier" boolean NOT NULL DEFAULT (0), "anomaly_reason" varchar(300), "anomaly_score" double, "baseline_rate" double, "deviation_percent" double, "created_at" datetime(3) NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "ix_rate_samples_transaction" ON "rate_samples" ("transaction_id") `);
    await queryRunner.query(`CREATE INDEX "ix_rate_samples_outlier_time" ON "rate_samples" ("is_outlier", "created_at") `);
    await queryRunner.query(`CREATE INDEX "ix_rate_samples_user_dir_time" ON "rate_samples" ("user_id", "direction", "created_at") `);
    await queryRunner.query(`CREATE INDEX "ix_rate_samples_dir_time" ON "rate_samples" ("direction", "created_at") `);
    await queryRunner.query(`CREATE TABLE "transactions" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "user_id" integer NOT NULL, "usd_amount" bigint NOT NULL, "lbp_amount" bigint NOT NULL, "usd_to_lbp" boolean NOT NULL, "rate" double NOT NULL, "created_at" datetime(3) NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "ix_transactions_time" ON "transactions" ("created_at") `);
    await queryRunner.query(`CREATE INDEX "ix_transactions_user_time" ON "transactions" ("user_id", "created_at") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_transactions_user_time"`);
    await queryRunner.query(`DROP INDEX "ix_transactions_time"`);
    await queryRunner.query(`DROP TABLE "transactions"`);
    await queryRunner.query(`DROP INDEX "ix_rate_samples_dir_time"`);
    await queryRunner.query(`DROP INDEX "ix_rate_samples_user_dir_time"`);
    await queryRunner.query(`DROP INDEX "ix_rate_samples_outlier_time"`);
    await queryRunner.query(`DROP INDEX "ix_rate_samples_transaction"`);
    await queryRunner.query(`DROP TABLE "rate_samples"`);
    await queryRunner.query(`DROP TABLE "rate_hourly"`);
  }
}
