import { MigrationInterface, QueryRunner } from 'typeorm';

export class ContributorsIndex1796536791859 implements MigrationInterface {
  name = 'ContributorsIndex1796536791859';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX \`ix_rate_samples_contributors\` ON \`rate_samples\` (\`direction\`, \`is_outlier\`, \`created_at\`, \`user_id\`, \`rate\`, \`usd_volume\`)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX \`ix_rate_samples_contributors\` ON \`rate_samples\``);
  }
}
