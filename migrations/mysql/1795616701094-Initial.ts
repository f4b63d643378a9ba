import { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1795616701094 implements MigrationInterface {
  name = 'Initial1795616701094';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE \`audit_logs\` (\`id\` int NOT NULL AUTO_INCREMENT, \`created_at\` datetime(3) NOT NULL, \`event_type\` varchar(64) NOT NULL, \`action\` varchar(128) NOT NULL, \`success\` tinyint NOT NULL, \`status_code\` int NULL, \`message\` varchar(500) NULL, \`http_method\` varchar(10) NULL, \`path\` varchar(500) NULL, \`ip_address\` varchar(64) NULL, \`user_agent\` varchar(500) NULL, \`actor_user_id\` int NULL, \`actor_username\` varchar(30) NULL, \`target_user_id\` int NULL, \`metadata_json\` text NULL, INDEX \`ix_audit_logs_actor_name\` (\`actor_username\`), INDEX \`ix_audit_logs_event\` (\`event_type\`, \`created_at\`), INDEX \`ix_audit_logs_target\` (\`target_user_id\`, \`created_at\`), INDEX \`ix_audit_logs_actor\` (\`actor_user_id\`, \`created_at\`), INDEX \`ix_audit_logs_created\` (\`created_at\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
    await queryRunner.query(`CREATE TABLE \`users\` (\`id\` int NOT NULL AUTO_INCREMENT, \`user_name\` varchar(30) NOT NULL, \`user_name_key\` varchar(30) NOT NULL, \`email\` varchar(254) NULL, \`password_hash\` varchar(100) NOT NULL, \`role\` varchar(16) NOT NULL DEFAULT 'USER', \`status\` varchar(16) NOT NULL DEFAULT 'ACTIVE', \`password_changed_at\` datetime(3) NULL, \`created_at\` datetime(3) NOT NULL, \`updated_at\` datetime(3) NOT NULL, UNIQUE INDEX \`uq_users_user_name_key\` (\`user_name_key\`), INDEX \`ix_users_role\` (\`role\`), INDEX \`ix_users_status\` (\`status\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
    await queryRunner.query(`CREATE TABLE \`auth_sessions\` (\`id\` varchar(36) NOT NULL, \`user_id\` int NOT NULL, \`expires_at\` datetime(3) NOT NULL, \`revoked_at\` datetime(3) NULL, \`revoke_reason\` varchar(32) NULL, \`created_at\` datetime(3) NOT NULL, INDEX \`ix_auth_sessions_user\` (\`user_id\`, \`revoked_at\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
    await queryRunner.query(`CREATE TABLE \`refresh_tokens\` (\`id\` varchar(36) NOT NULL, \`session_id\` varchar(36) NOT NULL, \`parent_id\` varchar(36) NULL, \`token_hash\` varchar(64) NOT NULL, \`spent_at\` datetime(3) NULL, \`expires_at\` datetime(3) NOT NULL, \`created_at\` datetime(3) NOT NULL, INDEX \`ix_refresh_tokens_session\` (\`session_id\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
    await queryRunner.query(`CREATE TABLE \`user_preferences\` (\`user_id\` int NOT NULL, \`default_range_hours\` int NOT NULL DEFAULT '72', \`default_bucket\` varchar(8) NOT NULL DEFAULT 'hour', \`updated_at\` datetime(3) NOT NULL, PRIMARY KEY (\`user_id\`)) ENGINE=InnoDB`);
    await queryRunner.query(`ALTER TABLE \`auth_sessions\` ADD CONSTRAINT \`fk_auth_sessions_user\` FOREIGN KEY (\`user_id\`) REFERENCES \`users\`(\`id\`) ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE \`refresh_tokens\` ADD CONSTRAINT \`fk_refresh_tokens_session\` FOREIGN KEY (\`session_id\`) REFERENCES \`auth_sessions\`(\`id\`) ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE \`user_preferences\` ADD CONSTRAINT \`fk_user_preferences_user\` FOREIGN KEY (\`user_id\`) REFERENCES \`users\`(\`id\`) ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE \`user_preferences\` DROP FOREIGN KEY \`fk_user_preferences_user\``);
    await queryRunner.query(`ALTER TABLE \`refresh_tokens\` DROP FOREIGN KEY \`fk_refresh_tokens_session\``);
    await queryRunner.query(`ALTER TABLE \`auth_sessions\` DROP FOREIGN KEY \`fk_auth_sessions_user\``);
    await queryRunner.query(`DROP TABLE \`user_preferences\``);
    await queryRunner.query(`DROP INDEX \`ix_refresh_tokens_session\` ON \`refresh_tokens\``);
    await queryRunner.query(`DROP TABLE \`refresh_tokens\``);
    await queryRunner.query(`DROP INDEX \`ix_auth_sessions_user\` ON \`auth_sessions\``);
    await queryRunner.query(`DROP TABLE \`auth_sessions\``);
    await queryRunner.query(`DROP INDEX \`ix_users_status\` ON \`users\``);
    await queryRunner.query(`DROP INDEX \`ix_users_role\` ON \`users\``);
    await queryRunner.query(`DROP INDEX \`uq_users_user_name_key\` ON \`users\``);
    await queryRunner.query(`DROP TABLE \`users\``);
    await queryRunner.query(`DROP INDEX \`ix_audit_logs_created\` ON \`audit_logs\``);
    await queryRunner.query(`DROP INDEX \`ix_audit_logs_actor\` ON \`audit_logs\``);
    await queryRunner.query(`DROP INDEX \`ix_audit_logs_target\` ON \`audit_logs\``);
    await queryRunner.query(`DROP INDEX \`ix_audit_logs_event\` ON \`audit_logs\``);
    await queryRunner.query(`DROP INDEX \`ix_audit_logs_actor_name\` ON \`audit_logs\``);
    await queryRunner.query(`DROP TABLE \`audit_logs\``);
  }
}
