import { MigrationInterface, QueryRunner } from 'typeorm';

export class TransactionsCount1796644914995 implements MigrationInterface {
  name = 'TransactionsCount1796644914995';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE \`users\` ADD \`transactions_count\` int NOT NULL DEFAULT '0'`);
    // the records made before the counter existed
    await queryRunner.query(
      `UPDATE \`users\` u SET u.\`transactions_count\` = (SELECT COUNT(*) FROM \`transactions\` t WHERE t.\`user_id\` = u.\`id\`)`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE \`users\` DROP COLUMN \`transactions_count\``);
  }
}
