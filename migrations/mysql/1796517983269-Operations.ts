import { MigrationInterface, QueryRunner } from 'typeorm';

export class Operations1796517983269 implements MigrationInterface {
  name = 'Operations1796517983269';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE \`stream_tickets\` (\`id\` varchar(64) NOT NULL, \`session_id\` varchar(36) NOT NULL, \`expires_at\` datetime(3) NOT NULL, \`created_at\` datetime(3) NOT NULL, INDEX \`ix_stream_tickets_expires\` (\`expires_at\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
    await queryRunner.query(`ALTER TABLE \`stream_tickets\` ADD CONSTRAINT \`fk_stream_tickets_session\` FOREIGN KEY (\`session_id\`) REFERENCES \`auth_sessions\`(\`id\`) ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE \`stream_tickets\` DROP FOREIGN KEY \`fk_stream_tickets_session\``);
    await queryRunner.query(`DROP INDEX \`ix_stream_tickets_expires\` ON \`stream_tickets\``);
    await queryRunner.query(`DROP TABLE \`stream_tickets\``);
  }
}
