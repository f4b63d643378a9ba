import { MigrationInterface, QueryRunner } from 'typeorm';

export class NotificationsAndLeases1795620969091 implements MigrationInterface {
  name = 'NotificationsAndLeases1795620969091';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "notifications" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "user_id" integer NOT NULL, "event_type" varchar(48) NOT NULL, "title" varchar(120) NOT NULL, "message" varchar(500) NOT NULL, "ref_type" varchar(32) NOT NULL DEFAULT (''), "ref_id" integer NOT NULL DEFAULT (0), "occasion" varchar(64) NOT NULL DEFAULT (''), "is_read" boolean NOT NULL DEFAULT (0), "created_at" datetime(3) NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "ix_notifications_user_read" ON "notifications" ("user_id", "is_read", "id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_notifications_event" ON "notifications" ("user_id", "event_type", "ref_type", "ref_id", "occasion") `);
    await queryRunner.query(`CREATE TABLE "scheduler_leases" ("job_name" varchar(64) PRIMARY KEY NOT NULL, "holder" varchar(128) NOT NULL, "expires_at" datetime(3) NOT NULL, "acquired_at" datetime(3) NOT NULL)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "scheduler_leases"`);
    await queryRunner.query(`DROP INDEX "uq_notifications_event"`);
    await queryRunner.query(`DROP INDEX "ix_notifications_user_read"`);
    await queryRunner.query(`DROP TABLE "notifications"`);
  }
}
