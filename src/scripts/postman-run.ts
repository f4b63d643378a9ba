import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from 'newman';

/**
 * `npm run test:postman`: starts the built server on a fresh embedded database, runs the collection's
 * "Flow" folder with newman against it (CLI output, and JUnit in test-results/postman.xml), stops the
 * server, and exits non-zero on any failed request or test.
 */
const ROOT = join(__dirname, '..', '..', '..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForHealth(base: string, server: ChildProcess): Promise<void> {
  for (let i = 0; i < 80; i++) {
    if (server.exitCode !== null) throw new Error(`the server exited with ${server.exitCode}`);
    try {
      if ((await fetch(`${base}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('the server did not answer /health within 20 s');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'postman-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let log = '';
  const server = spawn(process.execPath, [join(ROOT, 'dist', 'src', 'main.js')], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: String(port),
      DB_TYPE: 'sqlite',
      SQLITE_PATH: join(dir, 'postman.sqlite'),
      BACKUP_DIR: join(dir, 'backups'),
      STARTING_BALANCE_USD: '1000',
      STARTING_BALANCE_LBP: '100000000',
      LOG_LEVEL: 'warn',
      SCHEDULER_ENABLED: 'false',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  server.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  try {
    await waitForHealth(base, server);
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
      if (log) console.error(`server output:\n${log}`);
      process.exitCode = 1;
    }
  } finally {
    server.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
