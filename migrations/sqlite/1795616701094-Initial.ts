import { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1795616701094 implements MigrationInterface {
  name = 'Initial1795616701094';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "audit_logs" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "created_at" datetime(3) NOT NULL, "event_type" varchar(64) NOT NULL, "action" varchar(128) NOT NULL, "success" boolean NOT NULL, "status_code" integer, "message" varchar(500), "http_method" varchar(10), "path" varchar(500), "ip_address" varchar(64), "user_agent" varchar(500), "actor_user_id" integer, "actor_username" varchar(30), "target_user_id" integer, "metadata_json" text)`);
    await queryRunner.query(`CREATE INDEX "ix_audit_logs_actor_name" ON "audit_logs" ("actor_username") `);
    await queryRunner.query(`CREATE INDEX "ix_audit_logs_event" ON "audit_logs" ("event_type", "created_at") `);
    await queryRunner.query(`CREATE INDEX "ix_audit_logs_target" ON "audit_logs" ("target_user_id", "created_at") `);
    await queryRunner.query(`CREATE INDEX "ix_audit_logs_actor" ON "audit_logs" ("actor_user_id", "created_at") `);
    await queryRunner.query(`CREATE INDEX "ix_audit_logs_created" ON "audit_logs" ("created_at") `);
    await queryRunner.query(`CREATE TABLE "users" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "user_name" varchar(30) NOT NULL, "user_name_key" varchar(30) NOT NULL, "email" varchar(254), "password_hash" varchar(100) NOT NULL, "role" varchar(16) NOT NULL DEFAULT ('USER'), "status" varchar(16) NOT NULL DEFAULT ('ACTIVE'), "password_changed_at" datetime(3), "created_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL)`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_users_user_name_key" ON "users" ("user_name_key") `);
    await queryRunner.query(`CREATE INDEX "ix_users_role" ON "users" ("role") `);
    await queryRunner.query(`CREATE INDEX "ix_users_status" ON "users" ("status") `);
    await queryRunner.query(`CREATE TABLE "auth_sessions" ("id" varchar(36) PRIMARY KEY NOT NULL, "user_id" integer NOT NULL, "expires_at" datetime(3) NOT NULL, "revoked_at" datetime(3), "revoke_reason" varchar(32), "created_at" datetime(3) NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "ix_auth_sessions_user" ON "auth_sessions" ("user_id", "revoked_at") `);
    await queryRunner.query(`CREATE TABLE "refresh_tokens" ("id" varchar(36) PRIMARY KEY NOT NULL, "session_id" varchar(36) NOT NULL, "parent_id" varchar(36), "token_hash" varchar(64) NOT NULL, "spent_at" datetime(3), "expires_at" datetime(3) NOT NULL, "created_at" datetime(3) NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "ix_refresh_tokens_session" ON "refresh_tokens" ("session_id") `);
    await queryRunner.query(`CREATE TABLE "user_preferences" ("user_id" integer PRIMARY KEY NOT NULL, "default_range_hours" integer NOT NULL DEFAULT (72), "default_bucket" varchar(8) NOT NULL DEFAULT ('hour'), "updated_at" datetime(3) NOT NULL)`);
    await queryRunner.query(`DROP INDEX "ix_auth_sessions_user"`);
    await queryRunner.query(`CREATE TABLE "temporary_auth_sessions" ("id" varchar(36) PRIMARY KEY NOT NULL, "user_id" integer NOT NULL, "expires_at" datetime(3) NOT NULL, "revoked_at" datetime(3), "revoke_reason" varchar(32), "created_at" datetime(3) NOT NULL, CONSTRAINT "fk_auth_sessions_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "temporary_auth_sessions"("id", "user_id", "expires_at", "revoked_at", "revoke_reason", "created_at") SELECT "id", "user_id", "expires_at", "revoked_at", "revoke_reason", "created_at" FROM "auth_sessions"`);
    await queryRunner.query(`DROP TABLE "auth_sessions"`);
    await queryRunner.query(`ALTER TABLE "temporary_auth_sessions" RENAME TO "auth_sessions"`);
    await queryRunner.query(`CREATE INDEX "ix_auth_sessions_user" ON "auth_sessions" ("user_id", "revoked_at") `);
    await queryRunner.query(`DROP INDEX "ix_refresh_tokens_session"`);
    await queryRunner.query(`CREATE TABLE "temporary_refresh_tokens" ("id" varchar(36) PRIMARY KEY NOT NULL, "session_id" varchar(36) NOT NULL, "parent_id" varchar(36), "token_hash" varchar(64) NOT NULL, "spent_at" datetime(3), "expires_at" datetime(3) NOT NULL, "created_at" datetime(3) NOT NULL, CONSTRAINT "fk_refresh_tokens_session" FOREIGN KEY ("session_id") REFERENCES "auth_sessions" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "temporary_refresh_tokens"("id", "session_id", "parent_id", "token_hash", "spent_at", "expires_at", "created_at") SELECT "id", "session_id", "parent_id", "token_hash", "spent_at", "expires_at", "created_at" FROM "refresh_tokens"`);
    await queryRunner.query(`DROP TABLE "refresh_tokens"`);
    await queryRunner.query(`ALTER TABLE "temporary_refresh_tokens" RENAME TO "refresh_tokens"`);
    await queryRunner.query(`CREATE INDEX "ix_refresh_tokens_session" ON "refresh_tokens" ("session_id") `);
    await queryRunner.query(`CREATE TABLE "temporary_user_preferences" ("user_id" integer PRIMARY KEY NOT NULL, "default_range_hours" integer NOT NULL DEFAULT (72), "default_bucket" varchar(8) NOT NULL DEFAULT ('hour'), "updated_at" datetime(3) NOT NULL, CONSTRAINT "fk_user_preferences_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "temporary_user_preferences"("user_id", "default_range_hours", "default_bucket", "updated_at") SELECT "user_id", "default_range_hours", "default_bucket", "updated_at" FROM "user_preferences"`);
    await queryRunner.query(`DROP TABLE "user_preferences"`);
    await queryRunner.query(`ALTER TABLE "temporary_user_preferences" RENAME TO "user_preferences"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "user_preferences" RENAME TO "temporary_user_preferences"`);
    await queryRunner.query(`CREATE TABLE "user_preferences" ("user_id" integer PRIMARY KEY NOT NULL, "default_range_hours" integer NOT NULL DEFAULT (72), "default_bucket" varchar(8) NOT NULL DEFAULT ('hour'), "updated_at" datetime(3) NOT NULL)`);
    await queryRunner.query(`INSERT INTO "user_preferences"("user_id", "default_range_hours", "default_bucket", "updated_at") SELECT "user_id", "default_range_hours", "default_bucket", "updated_at" FROM "temporary_user_preferences"`);
    await queryRunner.query(`DROP TABLE "temporary_user_preferences"`);
    await queryRunner.query(`DROP INDEX "ix_refresh_tokens_session"`);
    await queryRunner.query(`ALTER TABLE "refresh_tokens" RENAME TO "temporary_refresh_tokens"`);
    await queryRunner.query(`CREATE TABLE "refresh_tokens" ("id" varchar(36) PRIMARY KEY NOT NULL, "session_id" varchar(36) NOT NULL, "parent_id" varchar(36), "token_hash" varchar(64) NOT NULL, "spent_at" datetime(3), "expires_at" datetime(3) NOT NULL, "created_at" datetime(3) NOT NULL)`);
    await queryRunner.query(`INSERT INTO "refresh_tokens"("id", "session_id", "parent_id", "token_hash", "spent_at", "expires_at", "created_at") SELECT "id", "session_id", "parent_id", "token_hash", "spent_at", "expires_at", "created_at" FROM "temporary_refresh_tokens"`);
    await queryRunner.query(`DROP TABLE "temporary_refresh_tokens"`);
    await queryRunner.query(`CREATE INDEX "ix_refresh_tokens_session" ON "refresh_tokens" ("session_id") `);
    await queryRunner.query(`DROP INDEX "ix_auth_sessions_user"`);
    await queryRunner.query(`ALTER TABLE "auth_sessions" RENAME TO "temporary_auth_sessions"`);
    await queryRunner.query(`CREATE TABLE "auth_sessions" ("id" varchar(36) PRIMARY KEY NOT NULL, "user_id" integer NOT NULL, "expires_at" datetime(3) NOT NULL, "revoked_at" datetime(3), "revoke_reason" varchar(32), "created_at" datetime(3) NOT NULL)`);
    await queryRunner.query(`INSERT INTO "auth_sessions"("id", "user_id", "expires_at", "revoked_at", "revoke_reason", "created_at") SELECT "id", "user_id", "expires_at", "revoked_at", "revoke_reason", "created_at" FROM "temporary_auth_sessions"`);
    await queryRunner.query(`DROP TABLE "temporary_auth_sessions"`);
    await queryRunner.query(`CREATE INDEX "ix_auth_sessions_user" ON "auth_sessions" ("user_id", "revoked_at") `);
    await queryRunner.query(`DROP TABLE "user_preferences"`);
    await queryRunner.query(`DROP INDEX "ix_refresh_tokens_session"`);
    await queryRunner.query(`DROP TABLE "refresh_tokens"`);
    await queryRunner.query(`DROP INDEX "ix_auth_sessions_user"`);
    await queryRunner.query(`DROP TABLE "auth_sessions"`);
    await queryRunner.query(`DROP INDEX "ix_users_status"`);
    await queryRunner.query(`DROP INDEX "ix_users_role"`);
    await queryRunner.query(`DROP INDEX "uq_users_user_name_key"`);
    await queryRunner.query(`DROP TABLE "users"`);
    await queryRunner.query(`DROP INDEX "ix_audit_logs_created"`);
    await queryRunner.query(`DROP INDEX "ix_audit_logs_actor"`);
    await queryRunner.query(`DROP INDEX "ix_audit_logs_target"`);
    await queryRunner.query(`DROP INDEX "ix_audit_logs_event"`);
    await queryRunner.query(`DROP INDEX "ix_audit_logs_actor_name"`);
    await queryRunner.query(`DROP TABLE "audit_logs"`);
  }
}
