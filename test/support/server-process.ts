import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { call } from './http-client';

/**
 * The built server (`node dist/src/main.js`, as `npm start` runs it) as a child process, for tests
 * that need several real instances: two Nest apps in one process would share passport's global
 * strategies, so multi-instance behaviour has to be shown with separate OS processes.
 */

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const BUILT_MAIN = join(REPO_ROOT, 'dist', 'src', 'main.js');

/** Kept per process: the tail of its stdout and stderr, enough to explain a failure. */
const OUTPUT_LIMIT = 16 * 1024;

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
    const child = spawn('npm', ['run', 'build', '--silent'], {
      cwd: REPO_ROOT,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
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

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolvePromise(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class ServerProcess {
  readonly base: string;
  private readonly child: ChildProcess;
  private output = '';
  private exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly exited: Promise<void>;
  private readonly killOnExit = () => {
    if (this.exit === null) this.child.kill('SIGKILL');
  };

  private constructor(
    readonly name: string,
    readonly port: number,
    env: Record<string, string>,
    private readonly cwd: string,
  ) {
    this.base = `http://127.0.0.1:${port}`;
    // Only what is given: no DATABASE_URL or other settings leak in from the test runner's
    // environment, and the working directory is empty so no .env file is read.
    this.child = spawn(process.execPath, [BUILT_MAIN], {
      cwd,
      env: {
        PATH: process.env.PATH ?? '',
        ...(process.env.HOME ? { HOME: process.env.HOME } : {}),
        ...env,
        HOST: '127.0.0.1',
        PORT: String(port),
        NO_COLOR: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d: Buffer) => {
      this.output += d.toString();
      if (this.output.length > OUTPUT_LIMIT * 2) this.output = this.output.slice(-OUTPUT_LIMIT);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = new Promise((r) => {
      this.child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        r();
      });
      this.child.on('error', (err) => {
        this.output += `\nspawn failed: ${err.message}\n`;
        this.exit ??= { code: null, signal: null };
        r();
      });
    });
    process.once('exit', this.killOnExit);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Starts `node dist/src/main.js` on a free port and waits until GET /health answers 200. */
  static async start(name: string, env: Record<string, string>, timeoutMs = 45_000): Promise<ServerProcess> {
    const cwd = mkdtempSync(join(tmpdir(), `server-${name}-`));
    const server = new ServerProcess(name, await freePort(), env, cwd);
    try {
      await server.waitHealthy(timeoutMs);
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  private async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer';
    while (Date.now() < deadline) {
      if (this.exit !== null) {
        throw new Error(
          `server ${this.name} exited (code ${String(this.exit.code)}, signal ${String(this.exit.signal)}) before answering /health:\n${this.logs()}`,
        );
      }
      try {
        const res = await call(this.base, 'GET', '/health');
        if (res.status === 200) return;
        last = `${res.status} ${res.body}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      await sleep(150);
    }
    throw new Error(
      `server ${this.name} did not answer /health within ${timeoutMs} ms (${last}):\n${this.logs()}`,
    );
  }

  /** Its captured stdout and stderr (the tail), labelled. */
  logs(): string {
    const tail = this.output.length > OUTPUT_LIMIT ? this.output.slice(-OUTPUT_LIMIT) : this.output;
    return `----- server ${this.name} (pid ${this.pid}, ${this.base}) -----\n${tail}\n----- end of ${this.name} -----`;
  }

  /** SIGTERM, then SIGKILL after a grace period; removes its working directory. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.exit === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (this.exit === null) this.child.kill('SIGKILL');
      }, graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    process.removeListener('exit', this.killOnExit);
    rmSync(this.cwd, { recursive: true, force: true });
  }
}
