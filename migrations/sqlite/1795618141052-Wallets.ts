import { MigrationInterface, QueryRunner } from 'typeorm';

export class Wallets1795618141052 implements MigrationInterface {
  name = 'Wallets1795618141052';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "idempotency_keys" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "user_id" integer NOT NULL, "idem_key" varchar(255) NOT NULL, "request_hash" varchar(64) NOT NULL, "state" varchar(16) NOT NULL, "response_status" integer, "response_body" text, "created_at" datetime(3) NOT NULL, "expires_at" datetime(3) NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "ix_idempotency_expires" ON "idempotency_keys" ("expires_at") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_idempotency_user_key" ON "idempotency_keys" ("user_id", "idem_key") `);
    await queryRunner.query(`CREATE TABLE "ledger_entries" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "journal_id" varchar(36) NOT NULL, "account" varchar(16) NOT NULL, "user_id" integer, "currency" varchar(3) NOT NULL, "amount" bigint NOT NULL, "balance_after" bigint, "kind" varchar(32) NOT NULL, "ref_type" varchar(32), "ref_id" integer, "created_at" datetime(3) NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "ix_ledger_journal" ON "ledger_entries" ("journal_id") `);
    await queryRunner.query(`CREATE INDEX "ix_ledger_account" ON "ledger_entries" ("account", "currency") `);
    await queryRunner.query(`CREATE INDEX "ix_ledger_user" ON "ledger_entries" ("user_id", "id") `);
    await queryRunner.query(`CREATE TABLE "wallets" ("user_id" integer PRIMARY KEY NOT NULL, "usd_available" bigint NOT NULL DEFAULT (0), "lbp_available" bigint NOT NULL DEFAULT (0), "usd_held" bigint NOT NULL DEFAULT (0), "lbp_held" bigint NOT NULL DEFAULT (0), "updated_at" datetime(3) NOT NULL)`);
    await queryRunner.query(`CREATE TABLE "temporary_wallets" ("user_id" integer PRIMARY KEY NOT NULL, "usd_available" bigint NOT NULL DEFAULT (0), "lbp_available" bigint NOT NULL DEFAULT (0), "usd_held" bigint NOT NULL DEFAULT (0), "lbp_held" bigint NOT NULL DEFAULT (0), "updated_at" datetime(3) NOT NULL, CONSTRAINT "fk_wallets_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "temporary_wallets"("user_id", "usd_available", "lbp_available", "usd_held", "lbp_held", "updated_at") SELECT "user_id", "usd_available", "lbp_available", "usd_held", "lbp_held", "updated_at" FROM "wallets"`);
    await queryRunner.query(`DROP TABLE "wallets"`);
    await queryRunner.query(`ALTER TABLE "temporary_wallets" RENAME TO "wallets"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "wallets" RENAME TO "temporary_wallets"`);
    await queryRunner.query(`CREATE TABLE "wallets" ("user_id" integer PRIMARY KEY NOT NULL, "usd_available" bigint NOT NULL DEFAULT (0), "lbp_available" bigint NOT NULL DEFAULT (0), "usd_held" bigint NOT NULL DEFAULT (0), "lbp_held" bigint NOT NULL DEFAULT (0), "updated_at" datetime(3) NOT NULL)`);
    await queryRunner.query(`INSERT INTO "wallets"("user_id", "usd_available", "lbp_available", "usd_held", "lbp_held", "updated_at") SELECT "user_id", "usd_available", "lbp_available", "usd_held", "lbp_held", "updated_at" FROM "temporary_wallets"`);
    await queryRunner.query(`DROP TABLE "temporary_wallets"`);
    await queryRunner.query(`DROP TABLE "wallets"`);
    await queryRunner.query(`DROP INDEX "ix_ledger_user"`);
    await queryRunner.query(`DROP INDEX "ix_ledger_account"`);
    await queryRunner.query(`DROP INDEX "ix_ledger_journal"`);
    await queryRunner.query(`DROP TABLE "ledger_entries"`);
    await queryRunner.query(`DROP INDEX "uq_idempotency_user_key"`);
    await queryRunner.query(`DROP INDEX "ix_idempotency_expires"`);
    await queryRunner.query(`DROP TABLE "idempotency_keys"`);
  }
}
