import { MigrationInterface, QueryRunner } from 'typeorm';

export class MoneyModel1796514366740 implements MigrationInterface {
  name = 'MoneyModel1796514366740';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "funding_requests" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "kind" varchar(16) NOT NULL, "user_id" integer NOT NULL, "currency" varchar(3) NOT NULL, "amount" bigint NOT NULL, "reference" varchar(200), "destination" varchar(200), "status" varchar(16) NOT NULL, "note" varchar(500), "decided_by" integer, "decided_at" datetime(3), "created_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "ix_funding_status" ON "funding_requests" ("kind", "status", "created_at") `);
    await queryRunner.query(`CREATE INDEX "ix_funding_user" ON "funding_requests" ("user_id", "kind", "created_at") `);
    await queryRunner.query(`CREATE TABLE "quotes" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "user_id" integer NOT NULL, "from_currency" varchar(3) NOT NULL, "to_currency" varchar(3) NOT NULL, "from_amount" bigint NOT NULL, "to_amount" bigint NOT NULL, "rate" double NOT NULL, "reference_rate" double NOT NULL, "spread_percent" double NOT NULL, "created_at" datetime(3) NOT NULL, "expires_at" datetime(3) NOT NULL, "used_at" datetime(3))`);
    await queryRunner.query(`CREATE INDEX "ix_quotes_user" ON "quotes" ("user_id", "created_at") `);
    await queryRunner.query(`CREATE TABLE "conversions" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "quote_id" integer NOT NULL, "user_id" integer NOT NULL, "from_currency" varchar(3) NOT NULL, "from_amount" bigint NOT NULL, "to_currency" varchar(3) NOT NULL, "to_amount" bigint NOT NULL, "rate" double NOT NULL, "reference_rate" double NOT NULL, "created_at" datetime(3) NOT NULL)`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_conversions_quote" ON "conversions" ("quote_id") `);
    await queryRunner.query(`CREATE INDEX "ix_conversions_created" ON "conversions" ("created_at") `);
    await queryRunner.query(`CREATE INDEX "ix_conversions_user" ON "conversions" ("user_id", "created_at") `);
    await queryRunner.query(`CREATE TABLE "house_positions" ("currency" varchar(3) PRIMARY KEY NOT NULL, "amount" bigint NOT NULL, "updated_at" datetime(3) NOT NULL)`);
    await queryRunner.query(`DROP INDEX "ix_funding_status"`);
    await queryRunner.query(`DROP INDEX "ix_funding_user"`);
    await queryRunner.query(`CREATE TABLE "temporary_funding_requests" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "kind" varchar(16) NOT NULL, "user_id" integer NOT NULL, "currency" varchar(3) NOT NULL, "amount" bigint NOT NULL, "reference" varchar(200), "destination" varchar(200), "status" varchar(16) NOT NULL, "note" varchar(500), "decided_by" integer, "decided_at" datetime(3), "created_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL, CONSTRAINT "fk_funding_requests_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "temporary_funding_requests"("id", "kind", "user_id", "currency", "amount", "reference", "destination", "status", "note", "decided_by", "decided_at", "created_at", "updated_at") SELECT "id", "kind", "user_id", "currency", "amount", "reference", "destination", "status", "note", "decided_by", "decided_at", "created_at", "updated_at" FROM "funding_requests"`);
    await queryRunner.query(`DROP TABLE "funding_requests"`);
    await queryRunner.query(`ALTER TABLE "temporary_funding_requests" RENAME TO "funding_requests"`);
    await queryRunner.query(`CREATE INDEX "ix_funding_status" ON "funding_requests" ("kind", "status", "created_at") `);
    await queryRunner.query(`CREATE INDEX "ix_funding_user" ON "funding_requests" ("user_id", "kind", "created_at") `);
    await queryRunner.query(`DROP INDEX "ix_quotes_user"`);
    await queryRunner.query(`CREATE TABLE "temporary_quotes" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "user_id" integer NOT NULL, "from_currency" varchar(3) NOT NULL, "to_currency" varchar(3) NOT NULL, "from_amount" bigint NOT NULL, "to_amount" bigint NOT NULL, "rate" double NOT NULL, "reference_rate" double NOT NULL, "spread_percent" double NOT NULL, "created_at" datetime(3) NOT NULL, "expires_at" datetime(3) NOT NULL, "used_at" datetime(3), CONSTRAINT "fk_quotes_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "temporary_quotes"("id", "user_id", "from_currency", "to_currency", "from_amount", "to_amount", "rate", "reference_rate", "spread_percent", "created_at", "expires_at", "used_at") SELECT "id", "user_id", "from_currency", "to_currency", "from_amount", "to_amount", "rate", "reference_rate", "spread_percent", "created_at", "expires_at", "used_at" FROM "quotes"`);
    await queryRunner.query(`DROP TABLE "quotes"`);
    await queryRunner.query(`ALTER TABLE "temporary_quotes" RENAME TO "quotes"`);
    await queryRunner.query(`CREATE INDEX "ix_quotes_user" ON "quotes" ("user_id", "created_at") `);
    await queryRunner.query(`DROP INDEX "uq_conversions_quote"`);
    await queryRunner.query(`DROP INDEX "ix_conversions_created"`);
    await queryRunner.query(`DROP INDEX "ix_conversions_user"`);
    await queryRunner.query(`CREATE TABLE "temporary_conversions" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "quote_id" integer NOT NULL, "user_id" integer NOT NULL, "from_currency" varchar(3) NOT NULL, "from_amount" bigint NOT NULL, "to_currency" varchar(3) NOT NULL, "to_amount" bigint NOT NULL, "rate" double NOT NULL, "reference_rate" double NOT NULL, "created_at" datetime(3) NOT NULL, CONSTRAINT "fk_conversions_quote" FOREIGN KEY ("quote_id") REFERENCES "quotes" ("id") ON DELETE CASCADE ON UPDATE NO ACTION, CONSTRAINT "fk_conversions_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "temporary_conversions"("id", "quote_id", "user_id", "from_currency", "from_amount", "to_currency", "to_amount", "rate", "reference_rate", "created_at") SELECT "id", "quote_id", "user_id", "from_currency", "from_amount", "to_currency", "to_amount", "rate", "reference_rate", "created_at" FROM "conversions"`);
    await queryRunner.query(`DROP TABLE "conversions"`);
    await queryRunner.query(`ALTER TABLE "temporary_conversions" RENAME TO "conversions"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_conversions_quote" ON "conversions" ("quote_id") `);
    await queryRunner.query(`CREATE INDEX "ix_conversions_created" ON "conversions" ("created_at") `);
    await queryRunner.query(`CREATE INDEX "ix_conversions_user" ON "conversions" ("user_id", "created_at") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_conversions_user"`);
    await queryRunner.query(`DROP INDEX "ix_conversions_created"`);
    await queryRunner.query(`DROP INDEX "uq_conversions_quote"`);
    await queryRunner.query(`ALTER TABLE "conversions" RENAME TO "temporary_conversions"`);
    await queryRunner.query(`CREATE TABLE "conversions" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "quote_id" integer NOT NULL, "user_id" integer NOT NULL, "from_currency" varchar(3) NOT NULL, "from_amount" bigint NOT NULL, "to_currency" varchar(3) NOT NULL, "to_amount" bigint NOT NULL, "rate" double NOT NULL, "reference_rate" double NOT NULL, "created_at" datetime(3) NOT NULL)`);
    await queryRunner.query(`INSERT INTO "conversions"("id", "quote_id", "user_id", "from_currency", "from_amount", "to_currency", "to_amount", "rate", "reference_rate", "created_at") SELECT "id", "quote_id", "user_id", "from_currency", "from_amount", "to_currency", "to_amount", "rate", "reference_rate", "created_at" FROM "temporary_conversions"`);
    await queryRunner.query(`DROP TABLE "temporary_conversions"`);
    await queryRunner.query(`CREATE INDEX "ix_conversions_user" ON "conversions" ("user_id", "created_at") `);
    await queryRunner.query(`CREATE INDEX "ix_conversions_created" ON "conversions" ("created_at") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_conversions_quote" ON "conversions" ("quote_id") `);
    await queryRunner.query(`DROP INDEX "ix_quotes_user"`);
    await queryRunner.query(`ALTER TABLE "quotes" RENAME TO "temporary_quotes"`);
    await queryRunner.query(`CREATE TABLE "quotes" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "user_id" integer NOT NULL, "from_currency" varchar(3) NOT NULL, "to_currency" varchar(3) NOT NULL, "from_amount" bigint NOT NULL, "to_amount" bigint NOT NULL, "rate" double NOT NULL, "reference_rate" double NOT NULL, "spread_percent" double NOT NULL, "created_at" datetime(3) NOT NULL, "expires_at" datetime(3) NOT NULL, "used_at" datetime(3))`);
    await queryRunner.query(`INSERT INTO "quotes"("id", "user_id", "from_currency", "to_currency", "from_amount", "to_amount", "rate", "reference_rate", "spread_percent", "created_at", "expires_at", "used_at") SELECT "id", "user_id", "from_currency", "to_currency", "from_amount", "to_amount", "rate", "reference_rate", "spread_percent", "created_at", "expires_at", "used_at" FROM "temporary_quotes"`);
    await queryRunner.query(`DROP TABLE "temporary_quotes"`);
    await queryRunner.query(`CREATE INDEX "ix_quotes_user" ON "quotes" ("user_id", "created_at") `);
    await queryRunner.query(`DROP INDEX "ix_funding_user"`);
    await queryRunner.query(`DROP INDEX "ix_funding_status"`);
    await queryRunner.query(`ALTER TABLE "funding_requests" RENAME TO "temporary_funding_requests"`);
    await queryRunner.query(`CREATE TABLE "funding_requests" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "kind" varchar(16) NOT NULL, "user_id" integer NOT NULL, "currency" varchar(3) NOT NULL, "amount" bigint NOT NULL, "reference" varchar(200), "destination" varchar(200), "status" varchar(16) NOT NULL, "note" varchar(500), "decided_by" integer, "decided_at" datetime(3), "created_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL)`);
    await queryRunner.query(`INSERT INTO "funding_requests"("id", "kind", "user_id", "currency", "amount", "reference", "destination", "status", "note", "decided_by", "decided_at", "created_at", "updated_at") SELECT "id", "kind", "user_id", "currency", "amount", "reference", "destination", "status", "note", "decided_by", "decided_at", "created_at", "updated_at" FROM "temporary_funding_requests"`);
    await queryRunner.query(`DROP TABLE "temporary_funding_requests"`);
    await queryRunner.query(`CREATE INDEX "ix_funding_user" ON "funding_requests" ("user_id", "kind", "created_at") `);
    await queryRunner.query(`CREATE INDEX "ix_funding_status" ON "funding_requests" ("kind", "status", "created_at") `);
    await queryRunner.query(`DROP TABLE "house_positions"`);
    await queryRunner.query(`DROP INDEX "ix_conversions_user"`);
    await queryRunner.query(`DROP INDEX "ix_conversions_created"`);
    await queryRunner.query(`DROP INDEX "uq_conversions_quote"`);
    await queryRunner.query(`DROP TABLE "conversions"`);
    await queryRunner.query(`DROP INDEX "ix_quotes_user"`);
    await queryRunner.query(`DROP TABLE "quotes"`);
    await queryRunner.query(`DROP INDEX "ix_funding_user"`);
    await queryRunner.query(`DROP INDEX "ix_funding_status"`);
    await queryRunner.query(`DROP TABLE "funding_requests"`);
  }
}
