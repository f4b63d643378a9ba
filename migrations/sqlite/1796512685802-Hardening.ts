import { MigrationInterface, QueryRunner } from 'typeorm';

export class Hardening1796512685802 implements MigrationInterface {
  name = 'Hardening1796512685802';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_audit_logs_actor_name"`);
    await queryRunner.query(`CREATE TABLE "password_checks" ("user_id" integer PRIMARY KEY NOT NULL, "failures" integer NOT NULL DEFAULT (0), "last_failure_at" datetime(3), "locked_until" datetime(3))`);
    await queryRunner.query(`CREATE INDEX "ix_audit_logs_actor_name" ON "audit_logs" ("actor_username", "created_at") `);
    await queryRunner.query(`CREATE INDEX "ix_audit_logs_success" ON "audit_logs" ("success", "created_at") `);
    await queryRunner.query(`CREATE TABLE "temporary_password_checks" ("user_id" integer PRIMARY KEY NOT NULL, "failures" integer NOT NULL DEFAULT (0), "last_failure_at" datetime(3), "locked_until" datetime(3), CONSTRAINT "fk_password_checks_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "temporary_password_checks"("user_id", "failures", "last_failure_at", "locked_until") SELECT "user_id", "failures", "last_failure_at", "locked_until" FROM "password_checks"`);
    await queryRunner.query(`DROP TABLE "password_checks"`);
    await queryRunner.query(`ALTER TABLE "temporary_password_checks" RENAME TO "password_checks"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "password_checks" RENAME TO "temporary_password_checks"`);
    await queryRunner.query(`CREATE TABLE "password_checks" ("user_id" integer PRIMARY KEY NOT NULL, "failures" integer NOT NULL DEFAULT (0), "last_failure_at" datetime(3), "locked_until" datetime(3))`);
    await queryRunner.query(`INSERT INTO "password_checks"("user_id", "failures", "last_failure_at", "locked_until") SELECT "user_id", "failures", "last_failure_at", "locked_until" FROM "temporary_password_checks"`);
    await queryRunner.query(`DROP TABLE "temporary_password_checks"`);
    await queryRunner.query(`DROP INDEX "ix_audit_logs_success"`);
    await queryRunner.query(`DROP INDEX "ix_audit_logs_actor_name"`);
    await queryRunner.query(`DROP TABLE "password_checks"`);
    await queryRunner.query(`CREATE INDEX "ix_audit_logs_actor_name" ON "audit_logs" ("actor_username") `);
  }
}
