import { MigrationInterface, QueryRunner } from 'typeorm';

export class TransactionsCount1796644914995 implements MigrationInterface {
  name = 'TransactionsCount1796644914995';

  // Hand-written: TypeORM's generator rebuilds the users table to add a column, and dropping the old
  // users table with foreign keys on would cascade into every table that references it.
  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" ADD COLUMN "transactions_count" integer NOT NULL DEFAULT (0)`);
    // the records made before the counter existed
    await queryRunner.query(
      `UPDATE "users" SET "transactions_count" = (SELECT COUNT(*) FROM "transactions" t WHERE t."user_id" = "users"."id")`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "transactions_count"`);
  }
}
