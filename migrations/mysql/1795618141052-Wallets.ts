import { MigrationInterface, QueryRunner } from 'typeorm';

export class Wallets1795618141052 implements MigrationInterface {
  name = 'Wallets1795618141052';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE \`idempotency_keys\` (\`id\` int NOT NULL AUTO_INCREMENT, \`user_id\` int NOT NULL, \`idem_key\` varchar(255) NOT NULL, \`request_hash\` varchar(64) NOT NULL, \`state\` varchar(16) NOT NULL, \`response_status\` int NULL, \`response_body\` text NULL, \`created_at\` datetime(3) NOT NULL, \`expires_at\` datetime(3) NOT NULL, INDEX \`ix_idempotency_expires\` (\`expires_at\`), UNIQUE INDEX \`uq_idempotency_user_key\` (\`user_id\`, \`idem_key\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
    await queryRunner.query(`CREATE TABLE \`ledger_entries\` (\`id\` int NOT NULL AUTO_INCREMENT, \`journal_id\` varchar(36) NOT NULL, \`account\` varchar(16) NOT NULL, \`user_id\` int NULL, \`currency\` varchar(3) NOT NULL, \`amount\` bigint NOT NULL, \`balance_after\` bigint NULL, \`kind\` varchar(32) NOT NULL, \`ref_type\` varchar(32) NULL, \`ref_id\` int NULL, \`created_at\` datetime(3) NOT NULL, INDEX \`ix_ledger_journal\` (\`journal_id\`), INDEX \`ix_ledger_account\` (\`account\`, \`currency\`), INDEX \`ix_ledger_user\` (\`user_id\`, \`id\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
    await queryRunner.query(`CREATE TABLE \`wallets\` (\`user_id\` int NOT NULL, \`usd_available\` bigint NOT NULL DEFAULT '0', \`lbp_available\` bigint NOT NULL DEFAULT '0', \`usd_held\` bigint NOT NULL DEFAULT '0', \`lbp_held\` bigint NOT NULL DEFAULT '0', \`updated_at\` datetime(3) NOT NULL, PRIMARY KEY (\`user_id\`)) ENGINE=InnoDB`);
    await queryRunner.query(`ALTER TABLE \`wallets\` ADD CONSTRAINT \`fk_wallets_user\` FOREIGN KEY (\`user_id\`) REFERENCES \`users\`(\`id\`) ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE \`wallets\` DROP FOREIGN KEY \`fk_wallets_user\``);
    await queryRunner.query(`DROP TABLE \`wallets\``);
    await queryRunner.query(`DROP INDEX \`ix_ledger_user\` ON \`ledger_entries\``);
    await queryRunner.query(`DROP INDEX \`ix_ledger_account\` ON \`ledger_entries\``);
    await queryRunner.query(`DROP INDEX \`ix_ledger_journal\` ON \`ledger_entries\``);
    await queryRunner.query(`DROP TABLE \`ledger_entries\``);
    await queryRunner.query(`DROP INDEX \`uq_idempotency_user_key\` ON \`idempotency_keys\``);
    await queryRunner.query(`DROP INDEX \`ix_idempotency_expires\` ON \`idempotency_keys\``);
    await queryRunner.query(`DROP TABLE \`idempotency_keys\``);
  }
}
