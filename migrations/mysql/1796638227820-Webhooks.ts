import { MigrationInterface, QueryRunner } from 'typeorm';

export class Webhooks1796638227820 implements MigrationInterface {
  name = 'Webhooks1796638227820';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE \`webhook_endpoints\` (\`id\` int NOT NULL AUTO_INCREMENT, \`user_id\` int NOT NULL, \`url\` varchar(2000) NOT NULL, \`events\` varchar(500) NOT NULL, \`secret\` varchar(100) NOT NULL, \`previous_secret\` varchar(100) NULL, \`previous_secret_until\` datetime(3) NULL, \`status\` varchar(16) NOT NULL DEFAULT 'ACTIVE', \`disabled_reason\` varchar(300) NULL, \`failing_since\` datetime(3) NULL, \`created_at\` datetime(3) NOT NULL, \`updated_at\` datetime(3) NOT NULL, INDEX \`ix_webhook_endpoints_user\` (\`user_id\`, \`status\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
    await queryRunner.query(`CREATE TABLE \`webhook_deliveries\` (\`id\` int NOT NULL AUTO_INCREMENT, \`endpoint_id\` int NOT NULL, \`event_id\` varchar(40) NOT NULL, \`event_type\` varchar(40) NOT NULL, \`payload\` text NOT NULL, \`status\` varchar(16) NOT NULL DEFAULT 'PENDING', \`attempts\` int NOT NULL DEFAULT '0', \`next_attempt_at\` datetime(3) NULL, \`last_status_code\` int NULL, \`last_error\` varchar(300) NULL, \`claimed_by\` varchar(80) NULL, \`claimed_until\` datetime(3) NULL, \`created_at\` datetime(3) NOT NULL, \`delivered_at\` datetime(3) NULL, UNIQUE INDEX \`uq_webhook_deliveries_event\` (\`event_id\`), INDEX \`ix_webhook_deliveries_endpoint\` (\`endpoint_id\`, \`created_at\`), INDEX \`ix_webhook_deliveries_due\` (\`status\`, \`next_attempt_at\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
    await queryRunner.query(`ALTER TABLE \`webhook_endpoints\` ADD CONSTRAINT \`fk_webhook_endpoints_user\` FOREIGN KEY (\`user_id\`) REFERENCES \`users\`(\`id\`) ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE \`webhook_deliveries\` ADD CONSTRAINT \`fk_webhook_deliveries_endpoint\` FOREIGN KEY (\`endpoint_id\`) REFERENCES \`webhook_endpoints\`(\`id\`) ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE \`webhook_deliveries\` DROP FOREIGN KEY \`fk_webhook_deliveries_endpoint\``);
    await queryRunner.query(`ALTER TABLE \`webhook_endpoints\` DROP FOREIGN KEY \`fk_webhook_endpoints_user\``);
    await queryRunner.query(`DROP INDEX \`ix_webhook_deliveries_due\` ON \`webhook_deliveries\``);
    await queryRunner.query(`DROP INDEX \`ix_webhook_deliveries_endpoint\` ON \`webhook_deliveries\``);
    await queryRunner.query(`DROP INDEX \`uq_webhook_deliveries_event\` ON \`webhook_deliveries\``);
    await queryRunner.query(`DROP TABLE \`webhook_deliveries\``);
    await queryRunner.query(`DROP INDEX \`ix_webhook_endpoints_user\` ON \`webhook_endpoints\``);
    await queryRunner.query(`DROP TABLE \`webhook_endpoints\``);
  }
}
