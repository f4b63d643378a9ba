import { MigrationInterface, QueryRunner } from 'typeorm';

export class Operations1796517983269 implements MigrationInterface {
  name = 'Operations1796517983269';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "stream_tickets" ("id" varchar(64) PRIMARY KEY NOT NULL, "session_id" varchar(36) NOT NULL, "expires_at" datetime(3) NOT NULL, "created_at" datetime(3) NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "ix_stream_tickets_expires" ON "stream_tickets" ("expires_at") `);
    await queryRunner.query(`DROP INDEX "ix_stream_tickets_expires"`);
    await queryRunner.query(`CREATE TABLE "temporary_stream_tickets" ("id" varchar(64) PRIMARY KEY NOT NULL, "session_id" varchar(36) NOT NULL, "expires_at" datetime(3) NOT NULL, "created_at" datetime(3) NOT NULL, CONSTRAINT "fk_stream_tickets_session" FOREIGN KEY ("session_id") REFERENCES "auth_sessions" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "temporary_stream_tickets"("id", "session_id", "expires_at", "created_at") SELECT "id", "session_id", "expires_at", "created_at" FROM "stream_tickets"`);
    await queryRunner.query(`DROP TABLE "stream_tickets"`);
    await queryRunner.query(`ALTER TABLE "temporary_stream_tickets" RENAME TO "stream_tickets"`);
    await queryRunner.query(`CREATE INDEX "ix_stream_tickets_expires" ON "stream_tickets" ("expires_at") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_stream_tickets_expires"`);
    await queryRunner.query(`ALTER TABLE "stream_tickets" RENAME TO "temporary_stream_tickets"`);
    await queryRunner.query(`CREATE TABLE "stream_tickets" ("id" varchar(64) PRIMARY KEY NOT NULL, "session_id" varchar(36) NOT NULL, "expires_at" datetime(3) NOT NULL, "created_at" datetime(3) NOT NULL)`);
    await queryRunner.query(`INSERT INTO "stream_tickets"("id", "session_id", "expires_at", "created_at") SELECT "id", "session_id", "expires_at", "created_at" FROM "temporary_stream_tickets"`);
    await queryRunner.query(`DROP TABLE "temporary_stream_tickets"`);
    await queryRunner.query(`CREATE INDEX "ix_stream_tickets_expires" ON "stream_tickets" ("expires_at") `);
    await queryRunner.query(`DROP INDEX "ix_stream_tickets_expires"`);
    await queryRunner.query(`DROP TABLE "stream_tickets"`);
  }
}
