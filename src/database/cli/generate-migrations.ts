import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { type DatabaseConfig, type DbType, loadConfigFromProcess } from '../../config/app-config';
import { buildDataSourceOptions } from '../data-source-options';

/**
 * Generates (or with --check, verifies there is nothing to generate) one migration per dialect from
 * the entities: each dialect's existing migrations are applied to a scratch database and TypeORM's
 * schema builder reports what still differs.
 *   node dist/src/database/cli/generate-migrations.js [--check] [--name Foo] [--dialect sqlite|mysql]
 */

interface Diff {
  up: { query: string; parameters?: unknown[] }[];
  down: { query: string; parameters?: unknown[] }[];
}

async function diffFor(db: DatabaseConfig): Promise<Diff> {
  const ds = new DataSource(buildDataSourceOptions(db));
  await ds.initialize();
  try {
    await ds.runMigrations({ transaction: 'each' });
    const log = await ds.driver.createSchemaBuilder().log();
    return { up: log.upQueries, down: log.downQueries };
  } finally {
    await ds.destroy();
  }
}

async function withScratchMysql<T>(base: DatabaseConfig, fn: (db: DatabaseConfig) => Promise<T>): Promise<T> {
  const name = `${base.name}_gen_${process.pid}`;
  const conn = await createConnection({
    host: base.host,
    port: base.port,
    user: base.user,
    password: base.password,
  });
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    return await fn({ ...base, name, logging: false });
  } finally {
    await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await conn.end();
  }
}

function q(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${');
}

function render(className: string, diff: Diff): string {
  const line = (x: { query: string; parameters?: unknown[] }): string =>
    x.parameters && x.parameters.length > 0
      ? `    await queryRunner.query(\`${q(x.query)}\`, ${JSON.stringify(x.parameters)});`
      : `    await queryRunner.query(\`${q(x.query)}\`);`;
  return `import { MigrationInterface, QueryRunner } from 'typeorm';

export class ${className} implements MigrationInterface {
  name = '${className}';

  public async up(queryRunner: QueryRunner): Promise<void> {
${diff.up.map(line).join('\n')}
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
${[...diff.down].reverse().map(line).join('\n')}
  }
}
`;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const nameIdx = args.indexOf('--name');
  const name = nameIdx >= 0 ? (args[nameIdx + 1] ?? 'Schema') : 'Schema';
  if (!/^[A-Z][A-Za-z0-9]*$/.test(name)) throw new Error('--name must be PascalCase letters and digits');
  const dIdx = args.indexOf('--dialect');
  const dialects: DbType[] = dIdx >= 0 ? [args[dIdx + 1] as DbType] : ['sqlite', 'mysql'];
  const cfg = loadConfigFromProcess();
  const stamp = Date.now();
  let drift = false;

  for (const dialect of dialects) {
    const base: DatabaseConfig = { ...cfg.db, type: dialect, sqlitePath: ':memory:', logging: false };
    const diff = dialect === 'sqlite' ? await diffFor(base) : await withScratchMysql(base, diffFor);
    if (diff.up.length === 0) {
      console.log(`${dialect}: entities and migrations agree`);
      continue;
    }
    drift = true;
    if (check) {
      console.error(`${dialect}: entities differ from migrations; run npm run migration:generate. Pending:`);
      for (const x of diff.up) console.error(`  ${x.query}`);
      continue;
    }
    const className = `${name}${stamp}`;
    const file = join(__dirname, '..', '..', '..', '..', 'migrations', dialect, `${stamp}-${name}.ts`);
    writeFileSync(file, render(className, diff));
    console.log(`${dialect}: wrote ${file}`);
  }
  if (check && drift) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
