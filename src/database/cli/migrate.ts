import { DataSource } from 'typeorm';
import { loadConfigFromProcess } from '../../config/app-config';
import { buildDataSourceOptions } from '../data-source-options';

/** `npm run migration:run` / `migration:revert` / `node .../migrate.js show` on the configured database. */
async function main(): Promise<void> {
  const cmd = process.argv[2] ?? 'run';
  const cfg = loadConfigFromProcess();
  const ds = new DataSource(buildDataSourceOptions(cfg.db));
  await ds.initialize();
  try {
    if (cmd === 'run') {
      const done = await ds.runMigrations({ transaction: 'each' });
      console.log(
        done.length === 0 ? 'No pending migrations' : done.map((m) => `applied ${m.name}`).join('\n'),
      );
    } else if (cmd === 'revert') {
      await ds.undoLastMigration({ transaction: 'each' });
      console.log('Reverted the last migration');
    } else if (cmd === 'show') {
      const pending = await ds.showMigrations();
      console.log(pending ? 'There are pending migrations' : 'No pending migrations');
    } else {
      throw new Error(`unknown command "${cmd}" (run | revert | show)`);
    }
  } finally {
    await ds.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
