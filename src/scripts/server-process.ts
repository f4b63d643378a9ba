import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A server script (the built API, `dist/src/main.js`, or a benchmark baseline) as a child process on
 * a free loopback port: started with only the environment it is given (plus PATH and HOME) in an
 * empty working directory (so no .env file is read), ready once GET /health answers 200, stopped
 * with SIGTERM (SIGKILL after a grace period) and waited for. Used by the two-process tests, the
 * Postman run and the benchmark.
 */

/** Kept per process: the tail of its stdout and stderr, enough to explain a failure. */
const OUTPUT_LIMIT = 16 * 1024;

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
    script: string,
    readonly port: number,
    env: Record<string, string>,
    private readonly cwd: string,
  ) {
    this.base = `http://127.0.0.1:${port}`;
    // Only what is given: no DATABASE_URL or other settings leak in from the test runner's
    // environment, and the working directory is empty so no .env file is read.
    this.child = spawn(process.execPath, [script], {
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

  /** Starts `node <script>` on a free port and waits until GET /health answers 200. */
  static async start(
    name: string,
    script: string,
    env: Record<string, string>,
    timeoutMs = 45_000,
  ): Promise<ServerProcess> {
    const cwd = mkdtempSync(join(tmpdir(), `server-${name}-`));
    const server = new ServerProcess(name, script, await freePort(), env, cwd);
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
        const res = await fetch(`${this.base}/health`);
        const body = await res.text();
        if (res.status === 200) return;
        last = `${res.status} ${body}`;
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

  /** Sends a signal and returns at once (stop() waits). */
  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** False once the process has exited (crashed or stopped). */
  get running(): boolean {
    return this.exit === null;
  }

  /** Resolves with how the process ended (without sending anything). */
  async exitStatus(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    await this.exited;
    return this.exit ?? { code: null, signal: null };
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
