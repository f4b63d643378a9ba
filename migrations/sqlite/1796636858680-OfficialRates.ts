import { MigrationInterface, QueryRunner } from 'typeorm';

export class OfficialRates1796636858680 implements MigrationInterface {
  name = 'OfficialRates1796636858680';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "official_rates" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "usd_to_lbp" double NOT NULL, "lbp_to_usd" double NOT NULL, "source" varchar(100) NOT NULL, "effective_at" datetime(3) NOT NULL, "created_by" integer, "created_at" datetime(3) NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "ix_official_rates_effective" ON "official_rates" ("effective_at", "id") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_official_rates_effective"`);
    await queryRunner.query(`DROP TABLE "official_rates"`);
  }
}
