import { MigrationInterface, QueryRunner } from 'typeorm';

export class Marketplace1795624299593 implements MigrationInterface {
  name = 'Marketplace1795624299593';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "offers" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "creator_user_id" integer NOT NULL, "give_currency" varchar(3) NOT NULL, "give_amount" bigint NOT NULL, "want_currency" varchar(3) NOT NULL, "want_amount" bigint NOT NULL, "remaining_give_amount" bigint NOT NULL, "remaining_want_amount" bigint NOT NULL, "min_fill_amount" bigint, "rate" double NOT NULL, "status" varchar(16) NOT NULL, "refunded_amount" bigint NOT NULL, "created_at" datetime(3) NOT NULL, "expires_at" datetime(3), "closed_at" datetime(3), "updated_at" datetime(3) NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "ix_offers_status_expiry" ON "offers" ("status", "expires_at") `);
    await queryRunner.query(`CREATE INDEX "ix_offers_creator_time" ON "offers" ("creator_user_id", "created_at") `);
    await queryRunner.query(`CREATE INDEX "ix_offers_status_rate" ON "offers" ("status", "give_currency", "rate") `);
    await queryRunner.query(`CREATE INDEX "ix_offers_status_time" ON "offers" ("status", "created_at") `);
    await queryRunner.query(`CREATE TABLE "trades" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "offer_id" integer NOT NULL, "maker_user_id" integer NOT NULL, "taker_user_id" integer NOT NULL, "buyer_user_id" integer NOT NULL, "seller_user_id" integer NOT NULL, "usd_amount" bigint NOT NULL, "lbp_amount" bigint NOT NULL, "rate" double NOT NULL, "created_at" datetime(3) NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "ix_trades_time" ON "trades" ("created_at") `);
    await queryRunner.query(`CREATE INDEX "ix_trades_seller_time" ON "trades" ("seller_user_id", "created_at") `);
    await queryRunner.query(`CREATE INDEX "ix_trades_buyer_time" ON "trades" ("buyer_user_id", "created_at") `);
    await queryRunner.query(`CREATE INDEX "ix_trades_offer" ON "trades" ("offer_id") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_trades_offer"`);
    await queryRunner.query(`DROP INDEX "ix_trades_buyer_time"`);
    await queryRunner.query(`DROP INDEX "ix_trades_seller_time"`);
    await queryRunner.query(`DROP INDEX "ix_trades_time"`);
    await queryRunner.query(`DROP TABLE "trades"`);
    await queryRunner.query(`DROP INDEX "ix_offers_status_time"`);
    await queryRunner.query(`DROP INDEX "ix_offers_status_rate"`);
    await queryRunner.query(`DROP INDEX "ix_offers_creator_time"`);
    await queryRunner.query(`DROP INDEX "ix_offers_status_expiry"`);
    await queryRunner.query(`DROP TABLE "offers"`);
  }
}
