import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from 'newman';
import { ServerProcess } from './server-process';

/**
 * `npm run test:postman`: starts the built server on a fresh embedded database, runs the collection's
 * "Flow" folder with newman against it (CLI output, and JUnit in test-results/postman.xml), stops the
 * server, and exits non-zero on any failed request or test.
 */
const ROOT = join(__dirname, '..', '..', '..');

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'postman-'));
  let server: ServerProcess | undefined;
  try {
    server = await ServerProcess.start('postman', join(ROOT, 'dist', 'src', 'main.js'), {
      NODE_ENV: 'development',
      DB_TYPE: 'sqlite',
      SQLITE_PATH: join(dir, 'postman.sqlite'),
      BACKUP_DIR: join(dir, 'backups'),
      // the Flow's admin (the collection's adminName and adminPassword)
      ADMIN_USER_NAME: 'postman_admin',
      ADMIN_PASSWORD: 'postman-admin-password-1',
      LOG_LEVEL: 'warn',
      SCHEDULER_ENABLED: 'false',
    });
    const base = server.base;
    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    const failures = await new Promise<number>((resolve, reject) => {
      run(
        {
          collection: join(ROOT, 'postman', 'collection.json'),
          folder: 'Flow',
          envVar: [{ key: 'baseUrl', value: base }],
          reporters: ['cli', 'junit'],
          reporter: { junit: { export: join(ROOT, 'test-results', 'postman.xml') } },
        },
        (err, summary) => {
          if (err) return reject(err);
          const stats = summary.run.stats;
          console.log(
            `newman: ${stats.requests?.total ?? 0} requests, ${stats.assertions?.total ?? 0} tests, ${summary.run.failures.length} failure(s)`,
          );
          resolve(summary.run.failures.length);
        },
      );
    });
    if (failures > 0) {
      console.error(server.logs());
      process.exitCode = 1;
    }
  } finally {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
