import { MigrationInterface, QueryRunner } from 'typeorm';

export class Watchlist1795621263945 implements MigrationInterface {
  name = 'Watchlist1795621263945';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "watchlist_items" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "user_id" integer NOT NULL, "item_type" varchar(16) NOT NULL, "direction" varchar(16) NOT NULL, "condition" varchar(8), "threshold" double, "armed" boolean NOT NULL DEFAULT (1), "dedupe_key" varchar(80) NOT NULL, "last_notified_at" datetime(3), "last_notified_day" varchar(10) NOT NULL DEFAULT (''), "created_at" datetime(3) NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "ix_watchlist_items_sweep" ON "watchlist_items" ("item_type", "direction", "armed") `);
    await queryRunner.query(`CREATE INDEX "ix_watchlist_items_user" ON "watchlist_items" ("user_id", "id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_watchlist_items_user_key" ON "watchlist_items" ("user_id", "dedupe_key") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "uq_watchlist_items_user_key"`);
    await queryRunner.query(`DROP INDEX "ix_watchlist_items_user"`);
    await queryRunner.query(`DROP INDEX "ix_watchlist_items_sweep"`);
    await queryRunner.query(`DROP TABLE "watchlist_items"`);
  }
}
