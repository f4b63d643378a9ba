import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort, ServerProcess, sleep } from '../../src/scripts/server-process';

export { freePort, ServerProcess, sleep };

/**
 * For tests that need several real instances: the built server (`node dist/src/main.js`, as
 * `npm start` runs it) as child processes (ServerProcess), built first when dist/ is stale. Two Nest
 * apps in one process would share passport's global strategies, so multi-instance behaviour has to
 * be shown with separate OS processes.
 */

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const BUILT_MAIN = join(REPO_ROOT, 'dist', 'src', 'main.js');

function newestMtimeMs(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtimeMs(join(path, entry)));
  return newest;
}

/** Whether dist/ is missing or older than the sources it is built from. */
export function buildIsStale(): boolean {
  if (!existsSync(BUILT_MAIN)) return true;
  const built = statSync(BUILT_MAIN).mtimeMs;
  const sources = Math.max(
    newestMtimeMs(join(REPO_ROOT, 'src')),
    newestMtimeMs(join(REPO_ROOT, 'migrations')),
    newestMtimeMs(join(REPO_ROOT, 'ormconfig.ts')),
  );
  return sources > built;
}

/** Runs `npm run build` when dist/ is stale (CI builds before the e2e step, so it is fresh there). */
export async function ensureBuilt(timeoutMs = 120_000): Promise<{ built: boolean; ms: number }> {
  const started = Date.now();
  if (!buildIsStale()) return { built: false, ms: 0 };
  const output: string[] = [];
  const code = await new Promise<number | null>((resolvePromise, reject) => {
    // its own process group, so a timeout stops `nest build` too, not only npm
    const child = spawn('npm', ['run', 'build', '--silent'], {
      cwd: REPO_ROOT,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      reject(new Error(`npm run build took longer than ${timeoutMs} ms:\n${output.join('')}`));
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => output.push(d.toString()));
    child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolvePromise(c);
    });
  });
  if (code !== 0 || !existsSync(BUILT_MAIN)) {
    throw new Error(`npm run build failed (exit ${String(code)}):\n${output.join('')}`);
  }
  return { built: true, ms: Date.now() - started };
}
