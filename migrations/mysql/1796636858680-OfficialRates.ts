import { MigrationInterface, QueryRunner } from 'typeorm';

export class OfficialRates1796636858680 implements MigrationInterface {
  name = 'OfficialRates1796636858680';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE \`official_rates\` (\`id\` int NOT NULL AUTO_INCREMENT, \`usd_to_lbp\` double NOT NULL, \`lbp_to_usd\` double NOT NULL, \`source\` varchar(100) NOT NULL, \`effective_at\` datetime(3) NOT NULL, \`created_by\` int NULL, \`created_at\` datetime(3) NOT NULL, INDEX \`ix_official_rates_effective\` (\`effective_at\`, \`id\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX \`ix_official_rates_effective\` ON \`official_rates\``);
    await queryRunner.query(`DROP TABLE \`official_rates\``);
  }
}
