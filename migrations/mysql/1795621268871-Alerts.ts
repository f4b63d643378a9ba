import { MigrationInterface, QueryRunner } from 'typeorm';

export class Alerts1795621268871 implements MigrationInterface {
  name = 'Alerts1795621268871';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE \`alerts\` (\`id\` int NOT NULL AUTO_INCREMENT, \`user_id\` int NOT NULL, \`direction\` varchar(16) NOT NULL, \`condition\` varchar(8) NOT NULL, \`threshold\` double NOT NULL, \`is_active\` tinyint NOT NULL DEFAULT 1, \`triggered_at\` datetime(3) NULL, \`trigger_rate\` double NULL, \`created_at\` datetime(3) NOT NULL, INDEX \`ix_alerts_user\` (\`user_id\`, \`id\`), INDEX \`ix_alerts_direction_active\` (\`direction\`, \`is_active\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX \`ix_alerts_direction_active\` ON \`alerts\``);
    await queryRunner.query(`DROP INDEX \`ix_alerts_user\` ON \`alerts\``);
    await queryRunner.query(`DROP TABLE \`alerts\``);
  }
}
