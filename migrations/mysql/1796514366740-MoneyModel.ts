import { MigrationInterface, QueryRunner } from 'typeorm';

export class MoneyModel1796514366740 implements MigrationInterface {
  name = 'MoneyModel1796514366740';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE \`funding_requests\` (\`id\` int NOT NULL AUTO_INCREMENT, \`kind\` varchar(16) NOT NULL, \`user_id\` int NOT NULL, \`currency\` varchar(3) NOT NULL, \`amount\` bigint NOT NULL, \`reference\` varchar(200) NULL, \`destination\` varchar(200) NULL, \`status\` varchar(16) NOT NULL, \`note\` varchar(500) NULL, \`decided_by\` int NULL, \`decided_at\` datetime(3) NULL, \`created_at\` datetime(3) NOT NULL, \`updated_at\` datetime(3) NOT NULL, INDEX \`ix_funding_status\` (\`kind\`, \`status\`, \`created_at\`), INDEX \`ix_funding_user\` (\`user_id\`, \`kind\`, \`created_at\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
    await queryRunner.query(`CREATE TABLE \`quotes\` (\`id\` int NOT NULL AUTO_INCREMENT, \`user_id\` int NOT NULL, \`from_currency\` varchar(3) NOT NULL, \`to_currency\` varchar(3) NOT NULL, \`from_amount\` bigint NOT NULL, \`to_amount\` bigint NOT NULL, \`rate\` double NOT NULL, \`reference_rate\` double NOT NULL, \`spread_percent\` double NOT NULL, \`created_at\` datetime(3) NOT NULL, \`expires_at\` datetime(3) NOT NULL, \`used_at\` datetime(3) NULL, INDEX \`ix_quotes_user\` (\`user_id\`, \`created_at\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
    await queryRunner.query(`CREATE TABLE \`conversions\` (\`id\` int NOT NULL AUTO_INCREMENT, \`quote_id\` int NOT NULL, \`user_id\` int NOT NULL, \`from_currency\` varchar(3) NOT NULL, \`from_amount\` bigint NOT NULL, \`to_currency\` varchar(3) NOT NULL, \`to_amount\` bigint NOT NULL, \`rate\` double NOT NULL, \`reference_rate\` double NOT NULL, \`created_at\` datetime(3) NOT NULL, UNIQUE INDEX \`uq_conversions_quote\` (\`quote_id\`), INDEX \`ix_conversions_created\` (\`created_at\`), INDEX \`ix_conversions_user\` (\`user_id\`, \`created_at\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
    await queryRunner.query(`CREATE TABLE \`house_positions\` (\`currency\` varchar(3) NOT NULL, \`amount\` bigint NOT NULL, \`updated_at\` datetime(3) NOT NULL, PRIMARY KEY (\`currency\`)) ENGINE=InnoDB`);
    await queryRunner.query(`ALTER TABLE \`funding_requests\` ADD CONSTRAINT \`fk_funding_requests_user\` FOREIGN KEY (\`user_id\`) REFERENCES \`users\`(\`id\`) ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE \`quotes\` ADD CONSTRAINT \`fk_quotes_user\` FOREIGN KEY (\`user_id\`) REFERENCES \`users\`(\`id\`) ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE \`conversions\` ADD CONSTRAINT \`fk_conversions_quote\` FOREIGN KEY (\`quote_id\`) REFERENCES \`quotes\`(\`id\`) ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE \`conversions\` ADD CONSTRAINT \`fk_conversions_user\` FOREIGN KEY (\`user_id\`) REFERENCES \`users\`(\`id\`) ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE \`conversions\` DROP FOREIGN KEY \`fk_conversions_user\``);
    await queryRunner.query(`ALTER TABLE \`conversions\` DROP FOREIGN KEY \`fk_conversions_quote\``);
    await queryRunner.query(`ALTER TABLE \`quotes\` DROP FOREIGN KEY \`fk_quotes_user\``);
    await queryRunner.query(`ALTER TABLE \`funding_requests\` DROP FOREIGN KEY \`fk_funding_requests_user\``);
    await queryRunner.query(`DROP TABLE \`house_positions\``);
    await queryRunner.query(`DROP INDEX \`ix_conversions_user\` ON \`conversions\``);
    await queryRunner.query(`DROP INDEX \`ix_conversions_created\` ON \`conversions\``);
    await queryRunner.query(`DROP INDEX \`uq_conversions_quote\` ON \`conversions\``);
    await queryRunner.query(`DROP TABLE \`conversions\``);
    await queryRunner.query(`DROP INDEX \`ix_quotes_user\` ON \`quotes\``);
    await queryRunner.query(`DROP TABLE \`quotes\``);
    await queryRunner.query(`DROP INDEX \`ix_funding_user\` ON \`funding_requests\``);
    await queryRunner.query(`DROP INDEX \`ix_funding_status\` ON \`funding_requests\``);
    await queryRunner.query(`DROP TABLE \`funding_requests\``);
  }
}
