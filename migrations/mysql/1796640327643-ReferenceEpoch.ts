import { MigrationInterface, QueryRunner } from 'typeorm';

export class ReferenceEpoch1796640327643 implements MigrationInterface {
  name = 'ReferenceEpoch1796640327643';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE \`reference_epoch\` (\`id\` int NOT NULL, \`epoch\` varchar(36) NOT NULL, \`changed_at\` datetime(3) NOT NULL, PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
    // the one row (see ReferenceEpochEntity): its value moves with every change to counted samples
    await queryRunner.query(`INSERT INTO \`reference_epoch\` (\`id\`, \`epoch\`, \`changed_at\`) VALUES (1, 'initial', UTC_TIMESTAMP(3))`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE \`reference_epoch\``);
  }
}
