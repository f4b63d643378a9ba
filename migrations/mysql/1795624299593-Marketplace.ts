import { MigrationInterface, QueryRunner } from 'typeorm';

export class Marketplace1795624299593 implements MigrationInterface {
  name = 'Marketplace1795624299593';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE \`offers\` (\`id\` int NOT NULL AUTO_INCREMENT, \`creator_user_id\` int NOT NULL, \`give_currency\` varchar(3) NOT NULL, \`give_amount\` bigint NOT NULL, \`want_currency\` varchar(3) NOT NULL, \`want_amount\` bigint NOT NULL, \`remaining_give_amount\` bigint NOT NULL, \`remaining_want_amount\` bigint NOT NULL, \`min_fill_amount\` bigint NULL, \`rate\` double NOT NULL, \`status\` varchar(16) NOT NULL, \`refunded_amount\` bigint NOT NULL, \`created_at\` datetime(3) NOT NULL, \`expires_at\` datetime(3) NULL, \`closed_at\` datetime(3) NULL, \`updated_at\` datetime(3) NOT NULL, INDEX \`ix_offers_status_expiry\` (\`status\`, \`expires_at\`), INDEX \`ix_offers_creator_time\` (\`creator_user_id\`, \`created_at\`), INDEX \`ix_offers_status_rate\` (\`status\`, \`give_currency\`, \`rate\`), INDEX \`ix_offers_status_time\` (\`status\`, \`created_at\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
    await queryRunner.query(`CREATE TABLE \`trades\` (\`id\` int NOT NULL AUTO_INCREMENT, \`offer_id\` int NOT NULL, \`maker_user_id\` int NOT NULL, \`taker_user_id\` int NOT NULL, \`buyer_user_id\` int NOT NULL, \`seller_user_id\` int NOT NULL, \`usd_amount\` bigint NOT NULL, \`lbp_amount\` bigint NOT NULL, \`rate\` double NOT NULL, \`created_at\` datetime(3) NOT NULL, INDEX \`ix_trades_time\` (\`created_at\`), INDEX \`ix_trades_seller_time\` (\`seller_user_id\`, \`created_at\`), INDEX \`ix_trades_buyer_time\` (\`buyer_user_id\`, \`created_at\`), INDEX \`ix_trades_offer\` (\`offer_id\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX \`ix_trades_offer\` ON \`trades\``);
    await queryRunner.query(`DROP INDEX \`ix_trades_buyer_time\` ON \`trades\``);
    await queryRunner.query(`DROP INDEX \`ix_trades_seller_time\` ON \`trades\``);
    await queryRunner.query(`DROP INDEX \`ix_trades_time\` ON \`trades\``);
    await queryRunner.query(`DROP TABLE \`trades\``);
    await queryRunner.query(`DROP INDEX \`ix_offers_status_time\` ON \`offers\``);
    await queryRunner.query(`DROP INDEX \`ix_offers_status_rate\` ON \`offers\``);
    await queryRunner.query(`DROP INDEX \`ix_offers_creator_time\` ON \`offers\``);
    await queryRunner.query(`DROP INDEX \`ix_offers_status_expiry\` ON \`offers\``);
    await queryRunner.query(`DROP TABLE \`offers\``);
  }
}
