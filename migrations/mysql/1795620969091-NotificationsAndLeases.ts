import { MigrationInterface, QueryRunner } from 'typeorm';

export class NotificationsAndLeases1795620969091 implements MigrationInterface {
  name = 'NotificationsAndLeases1795620969091';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE \`notifications\` (\`id\` int NOT NULL AUTO_INCREMENT, \`user_id\` int NOT NULL, \`event_type\` varchar(48) NOT NULL, \`title\` varchar(120) NOT NULL, \`message\` varchar(500) NOT NULL, \`ref_type\` varchar(32) NOT NULL DEFAULT '', \`ref_id\` int NOT NULL DEFAULT '0', \`occasion\` varchar(64) NOT NULL DEFAULT '', \`is_read\` tinyint NOT NULL DEFAULT 0, \`created_at\` datetime(3) NOT NULL, INDEX \`ix_notifications_user_read\` (\`user_id\`, \`is_read\`, \`id\`), UNIQUE INDEX \`uq_notifications_event\` (\`user_id\`, \`event_type\`, \`ref_type\`, \`ref_id\`, \`occasion\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
    await queryRunner.query(`CREATE TABLE \`scheduler_leases\` (\`job_name\` varchar(64) NOT NULL, \`holder\` varchar(128) NOT NULL, \`expires_at\` datetime(3) NOT NULL, \`acquired_at\` datetime(3) NOT NULL, PRIMARY KEY (\`job_name\`)) ENGINE=InnoDB`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE \`scheduler_leases\``);
    await queryRunner.query(`DROP INDEX \`uq_notifications_event\` ON \`notifications\``);
    await queryRunner.query(`DROP INDEX \`ix_notifications_user_read\` ON \`notifications\``);
    await queryRunner.query(`DROP TABLE \`notifications\``);
  }
}
