import { MigrationInterface, QueryRunner } from 'typeorm';

export class Watchlist1795621263945 implements MigrationInterface {
  name = 'Watchlist1795621263945';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE \`watchlist_items\` (\`id\` int NOT NULL AUTO_INCREMENT, \`user_id\` int NOT NULL, \`item_type\` varchar(16) NOT NULL, \`direction\` varchar(16) NOT NULL, \`condition\` varchar(8) NULL, \`threshold\` double NULL, \`armed\` tinyint NOT NULL DEFAULT 1, \`dedupe_key\` varchar(80) NOT NULL, \`last_notified_at\` datetime(3) NULL, \`last_notified_day\` varchar(10) NOT NULL DEFAULT '', \`created_at\` datetime(3) NOT NULL, INDEX \`ix_watchlist_items_sweep\` (\`item_type\`, \`direction\`, \`armed\`), INDEX \`ix_watchlist_items_user\` (\`user_id\`, \`id\`), UNIQUE INDEX \`uq_watchlist_items_user_key\` (\`user_id\`, \`dedupe_key\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX \`uq_watchlist_items_user_key\` ON \`watchlist_items\``);
    await queryRunner.query(`DROP INDEX \`ix_watchlist_items_user\` ON \`watchlist_items\``);
    await queryRunner.query(`DROP INDEX \`ix_watchlist_items_sweep\` ON \`watchlist_items\``);
    await queryRunner.query(`DROP TABLE \`watchlist_items\``);
  }
}
