import { MigrationInterface, QueryRunner } from 'typeorm';

export class Alerts1795621268871 implements MigrationInterface {
  name = 'Alerts1795621268871';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "alerts" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "user_id" integer NOT NULL, "direction" varchar(16) NOT NULL, "condition" varchar(8) NOT NULL, "threshold" double NOT NULL, "is_active" boolean NOT NULL DEFAULT (1), "triggered_at" datetime(3), "trigger_rate" double, "created_at" datetime(3) NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "ix_alerts_user" ON "alerts" ("user_id", "id") `);
    await queryRunner.query(`CREATE INDEX "ix_alerts_direction_active" ON "alerts" ("direction", "is_active") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_alerts_direction_active"`);
    await queryRunner.query(`DROP INDEX "ix_alerts_user"`);
    await queryRunner.query(`DROP TABLE "alerts"`);
  }
}
