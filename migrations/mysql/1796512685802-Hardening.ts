import { MigrationInterface, QueryRunner } from 'typeorm';

export class Hardening1796512685802 implements MigrationInterface {
  name = 'Hardening1796512685802';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX \`ix_audit_logs_actor_name\` ON \`audit_logs\``);
    await queryRunner.query(`CREATE TABLE \`password_checks\` (\`user_id\` int NOT NULL, \`failures\` int NOT NULL DEFAULT '0', \`last_failure_at\` datetime(3) NULL, \`locked_until\` datetime(3) NULL, PRIMARY KEY (\`user_id\`)) ENGINE=InnoDB`);
    await queryRunner.query(`CREATE INDEX \`ix_audit_logs_actor_name\` ON \`audit_logs\` (\`actor_username\`, \`created_at\`)`);
    await queryRunner.query(`CREATE INDEX \`ix_audit_logs_success\` ON \`audit_logs\` (\`success\`, \`created_at\`)`);
    await queryRunner.query(`ALTER TABLE \`password_checks\` ADD CONSTRAINT \`fk_password_checks_user\` FOREIGN KEY (\`user_id\`) REFERENCES \`users\`(\`id\`) ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE \`password_checks\` DROP FOREIGN KEY \`fk_password_checks_user\``);
    await queryRunner.query(`DROP INDEX \`ix_audit_logs_success\` ON \`audit_logs\``);
    await queryRunner.query(`DROP INDEX \`ix_audit_logs_actor_name\` ON \`audit_logs\``);
    await queryRunner.query(`DROP TABLE \`password_checks\``);
    await queryRunner.query(`CREATE INDEX \`ix_audit_logs_actor_name\` ON \`audit_logs\` (\`actor_username\`)`);
  }
}
