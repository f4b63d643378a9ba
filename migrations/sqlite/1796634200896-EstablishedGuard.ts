import { MigrationInterface, QueryRunner } from 'typeorm';

export class EstablishedGuard1796634200896 implements MigrationInterface {
  name = 'EstablishedGuard1796634200896';

  // Columns are added in place (ALTER TABLE ... ADD COLUMN), not by the generator's table rebuild:
  // dropping the old users table with foreign keys on would cascade into every table that references it.
  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_rate_samples_contributors"`);
    await queryRunner.query(`CREATE TABLE "reference_history" ("series" varchar(16) NOT NULL, "bucket" varchar(8) NOT NULL, "bucket_start" datetime(3) NOT NULL, "mid" double NOT NULL, "low" double NOT NULL, "high" double NOT NULL, "contributors" integer NOT NULL, "mid_at" datetime(3) NOT NULL, PRIMARY KEY ("series", "bucket", "bucket_start"))`);
    await queryRunner.query(`ALTER TABLE "users" ADD COLUMN "trusted" boolean`);
    await queryRunner.query(`ALTER TABLE "users" ADD COLUMN "trusted_at" datetime(3)`);
    await queryRunner.query(`ALTER TABLE "users" ADD COLUMN "funded_usd" bigint NOT NULL DEFAULT (0)`);
    await queryRunner.query(`ALTER TABLE "users" ADD COLUMN "funded_at" datetime(3)`);
    await queryRunner.query(`ALTER TABLE "quotes" ADD COLUMN "valuation_rate" double`);
    await queryRunner.query(`ALTER TABLE "rate_samples" ADD COLUMN "counted" boolean NOT NULL DEFAULT (1)`);
    await queryRunner.query(`CREATE INDEX "ix_rate_samples_counted" ON "rate_samples" ("direction", "is_outlier", "counted", "created_at", "user_id", "rate", "usd_volume") `);
    await queryRunner.query(`ALTER TABLE "offers" ADD COLUMN "received_want_amount" bigint NOT NULL DEFAULT (0)`);
    // what makers received before fills rounded up: exactly what their offers no longer want
    await queryRunner.query(`UPDATE "offers" SET "received_want_amount" = "want_amount" - "remaining_want_amount"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "offers" DROP COLUMN "received_want_amount"`);
    await queryRunner.query(`DROP INDEX "ix_rate_samples_counted"`);
    await queryRunner.query(`ALTER TABLE "rate_samples" DROP COLUMN "counted"`);
    await queryRunner.query(`ALTER TABLE "quotes" DROP COLUMN "valuation_rate"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "funded_at"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "funded_usd"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "trusted_at"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "trusted"`);
    await queryRunner.query(`DROP TABLE "reference_history"`);
    await queryRunner.query(`CREATE INDEX "ix_rate_samples_contributors" ON "rate_samples" ("direction", "is_outlier", "created_at", "user_id", "rate", "usd_volume") `);
  }
}
