import { MigrationInterface, QueryRunner } from 'typeorm';

export class UsersCreatedIndex1795622984978 implements MigrationInterface {
  name = 'UsersCreatedIndex1795622984978';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "ix_users_created" ON "users" ("created_at") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_users_created"`);
  }
}
