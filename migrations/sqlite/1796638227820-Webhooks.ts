import { MigrationInterface, QueryRunner } from 'typeorm';

export class Webhooks1796638227820 implements MigrationInterface {
  name = 'Webhooks1796638227820';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "webhook_endpoints" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "user_id" integer NOT NULL, "url" varchar(2000) NOT NULL, "events" varchar(500) NOT NULL, "secret" varchar(100) NOT NULL, "previous_secret" varchar(100), "previous_secret_until" datetime(3), "status" varchar(16) NOT NULL DEFAULT ('ACTIVE'), "disabled_reason" varchar(300), "failing_since" datetime(3), "created_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "ix_webhook_endpoints_user" ON "webhook_endpoints" ("user_id", "status") `);
    await queryRunner.query(`CREATE TABLE "webhook_deliveries" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "endpoint_id" integer NOT NULL, "event_id" varchar(40) NOT NULL, "event_type" varchar(40) NOT NULL, "payload" text NOT NULL, "status" varchar(16) NOT NULL DEFAULT ('PENDING'), "attempts" integer NOT NULL DEFAULT (0), "next_attempt_at" datetime(3), "last_status_code" integer, "last_error" varchar(300), "claimed_by" varchar(80), "claimed_until" datetime(3), "created_at" datetime(3) NOT NULL, "delivered_at" datetime(3))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_webhook_deliveries_event" ON "webhook_deliveries" ("event_id") `);
    await queryRunner.query(`CREATE INDEX "ix_webhook_deliveries_endpoint" ON "webhook_deliveries" ("endpoint_id", "created_at") `);
    await queryRunner.query(`CREATE INDEX "ix_webhook_deliveries_due" ON "webhook_deliveries" ("status", "next_attempt_at") `);
    await queryRunner.query(`DROP INDEX "ix_webhook_endpoints_user"`);
    await queryRunner.query(`CREATE TABLE "temporary_webhook_endpoints" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "user_id" integer NOT NULL, "url" varchar(2000) NOT NULL, "events" varchar(500) NOT NULL, "secret" varchar(100) NOT NULL, "previous_secret" varchar(100), "previous_secret_until" datetime(3), "status" varchar(16) NOT NULL DEFAULT ('ACTIVE'), "disabled_reason" varchar(300), "failing_since" datetime(3), "created_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL, CONSTRAINT "fk_webhook_endpoints_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "temporary_webhook_endpoints"("id", "user_id", "url", "events", "secret", "previous_secret", "previous_secret_until", "status", "disabled_reason", "failing_since", "created_at", "updated_at") SELECT "id", "user_id", "url", "events", "secret", "previous_secret", "previous_secret_until", "status", "disabled_reason", "failing_since", "created_at", "updated_at" FROM "webhook_endpoints"`);
    await queryRunner.query(`DROP TABLE "webhook_endpoints"`);
    await queryRunner.query(`ALTER TABLE "temporary_webhook_endpoints" RENAME TO "webhook_endpoints"`);
    await queryRunner.query(`CREATE INDEX "ix_webhook_endpoints_user" ON "webhook_endpoints" ("user_id", "status") `);
    await queryRunner.query(`DROP INDEX "uq_webhook_deliveries_event"`);
    await queryRunner.query(`DROP INDEX "ix_webhook_deliveries_endpoint"`);
    await queryRunner.query(`DROP INDEX "ix_webhook_deliveries_due"`);
    await queryRunner.query(`CREATE TABLE "temporary_webhook_deliveries" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "endpoint_id" integer NOT NULL, "event_id" varchar(40) NOT NULL, "event_type" varchar(40) NOT NULL, "payload" text NOT NULL, "status" varchar(16) NOT NULL DEFAULT ('PENDING'), "attempts" integer NOT NULL DEFAULT (0), "next_attempt_at" datetime(3), "last_status_code" integer, "last_error" varchar(300), "claimed_by" varchar(80), "claimed_until" datetime(3), "created_at" datetime(3) NOT NULL, "delivered_at" datetime(3), CONSTRAINT "fk_webhook_deliveries_endpoint" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "temporary_webhook_deliveries"("id", "endpoint_id", "event_id", "event_type", "payload", "status", "attempts", "next_attempt_at", "last_status_code", "last_error", "claimed_by", "claimed_until", "created_at", "delivered_at") SELECT "id", "endpoint_id", "event_id", "event_type", "payload", "status", "attempts", "next_attempt_at", "last_status_code", "last_error", "claimed_by", "claimed_until", "created_at", "delivered_at" FROM "webhook_deliveries"`);
    await queryRunner.query(`DROP TABLE "webhook_deliveries"`);
    await queryRunner.query(`ALTER TABLE "temporary_webhook_deliveries" RENAME TO "webhook_deliveries"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_webhook_deliveries_event" ON "webhook_deliveries" ("event_id") `);
    await queryRunner.query(`CREATE INDEX "ix_webhook_deliveries_endpoint" ON "webhook_deliveries" ("endpoint_id", "created_at") `);
    await queryRunner.query(`CREATE INDEX "ix_webhook_deliveries_due" ON "webhook_deliveries" ("status", "next_attempt_at") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_webhook_deliveries_due"`);
    await queryRunner.query(`DROP INDEX "ix_webhook_deliveries_endpoint"`);
    await queryRunner.query(`DROP INDEX "uq_webhook_deliveries_event"`);
    await queryRunner.query(`ALTER TABLE "webhook_deliveries" RENAME TO "temporary_webhook_deliveries"`);
    await queryRunner.query(`CREATE TABLE "webhook_deliveries" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "endpoint_id" integer NOT NULL, "event_id" varchar(40) NOT NULL, "event_type" varchar(40) NOT NULL, "payload" text NOT NULL, "status" varchar(16) NOT NULL DEFAULT ('PENDING'), "attempts" integer NOT NULL DEFAULT (0), "next_attempt_at" datetime(3), "last_status_code" integer, "last_error" varchar(300), "claimed_by" varchar(80), "claimed_until" datetime(3), "created_at" datetime(3) NOT NULL, "delivered_at" datetime(3))`);
    await queryRunner.query(`INSERT INTO "webhook_deliveries"("id", "endpoint_id", "event_id", "event_type", "payload", "status", "attempts", "next_attempt_at", "last_status_code", "last_error", "claimed_by", "claimed_until", "created_at", "delivered_at") SELECT "id", "endpoint_id", "event_id", "event_type", "payload", "status", "attempts", "next_attempt_at", "last_status_code", "last_error", "claimed_by", "claimed_until", "created_at", "delivered_at" FROM "temporary_webhook_deliveries"`);
    await queryRunner.query(`DROP TABLE "temporary_webhook_deliveries"`);
    await queryRunner.query(`CREATE INDEX "ix_webhook_deliveries_due" ON "webhook_deliveries" ("status", "next_attempt_at") `);
    await queryRunner.query(`CREATE INDEX "ix_webhook_deliveries_endpoint" ON "webhook_deliveries" ("endpoint_id", "created_at") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_webhook_deliveries_event" ON "webhook_deliveries" ("event_id") `);
    await queryRunner.query(`DROP INDEX "ix_webhook_endpoints_user"`);
    await queryRunner.query(`ALTER TABLE "webhook_endpoints" RENAME TO "temporary_webhook_endpoints"`);
    await queryRunner.query(`CREATE TABLE "webhook_endpoints" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "user_id" integer NOT NULL, "url" varchar(2000) NOT NULL, "events" varchar(500) NOT NULL, "secret" varchar(100) NOT NULL, "previous_secret" varchar(100), "previous_secret_until" datetime(3), "status" varchar(16) NOT NULL DEFAULT ('ACTIVE'), "disabled_reason" varchar(300), "failing_since" datetime(3), "created_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL)`);
    await queryRunner.query(`INSERT INTO "webhook_endpoints"("id", "user_id", "url", "events", "secret", "previous_secret", "previous_secret_until", "status", "disabled_reason", "failing_since", "created_at", "updated_at") SELECT "id", "user_id", "url", "events", "secret", "previous_secret", "previous_secret_until", "status", "disabled_reason", "failing_since", "created_at", "updated_at" FROM "temporary_webhook_endpoints"`);
    await queryRunner.query(`DROP TABLE "temporary_webhook_endpoints"`);
    await queryRunner.query(`CREATE INDEX "ix_webhook_endpoints_user" ON "webhook_endpoints" ("user_id", "status") `);
    await queryRunner.query(`DROP INDEX "ix_webhook_deliveries_due"`);
    await queryRunner.query(`DROP INDEX "ix_webhook_deliveries_endpoint"`);
    await queryRunner.query(`DROP INDEX "uq_webhook_deliveries_event"`);
    await queryRunner.query(`DROP TABLE "webhook_deliveries"`);
    await queryRunner.query(`DROP INDEX "ix_webhook_endpoints_user"`);
    await queryRunner.query(`DROP TABLE "webhook_endpoints"`);
  }
}
