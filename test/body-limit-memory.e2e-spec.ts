import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call } from './support/http-client';
import { BUILT_MAIN, ensureBuilt, ServerProcess, sleep } from './support/server-process';

/**
 * Chunked bodies cannot exhaust the server's memory: the built server (`node dist/src/main.js`) as
 * its own process, 300 connections each streaming 4 MB with `Transfer-Encoding: chunked` (no
 * Content-Length to refuse early) to POST /login, and the process's resident memory read from
 * /proc while they stream. Each body is cut at BODY_LIMIT_BYTES and answered 413. Linux only (it
 * reads /proc); the database does not matter, so it runs in the SQLite pass.
 */

jest.setTimeout(180_000);

const CONNECTIONS = 300;
const BODY_BYTES = 4 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'a');
const RSS_GROWTH_LIMIT = 100 * 1024 * 1024;
const RUNS = process.platform === 'linux' && process.env.E2E_DB !== 'mysql';

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/**
 * Streams `BODY_BYTES` chunked to `path` until the server answers; resolves with the status, or with
 * the error code when the server closed the connection first (it answers 413 with `Connection:
 * close` and closes with the rest of the upload unread, so the client's next write may be reset
 * before it has read the answer).
 */
function streamChunked(
  base: string,
  path: string,
): Promise<{ status: number; body: string; error?: string }> {
  const url = new URL(path, base);
  return new Promise((resolve) => {
    let sent = 0;
    let answered = false;
    const req = request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
    });
    const pump = (): void => {
      while (!answered && sent < BODY_BYTES) {
        sent += CHUNK.length;
        if (!req.write(CHUNK)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        req.destroy();
      });
    });
    // a server that closes the connection after answering may reset the rest of the upload
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (!answered) resolve({ status: 0, body: '', error: err.code ?? err.message });
    });
    pump();
  });
}

(RUNS ? describe : describe.skip)(
  RUNS
    ? 'body limits hold while bodies stream (the built server, its RSS)'
    : 'body limits hold while bodies stream (skipped: Linux /proc, and only in the SQLite pass)',
  () => {
    let server: ServerProcess | undefined;
    let dir: string;

    beforeAll(async () => {
      await ensureBuilt();
      dir = mkdtempSync(join(tmpdir(), 'body-limit-'));
      server = await ServerProcess.start('body-limit', BUILT_MAIN, {
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        DB_TYPE: 'sqlite',
        SQLITE_PATH: join(dir, 'db.sqlite'),
        JWT_SECRET_KEY: 'body-limit-secret-key-that-is-long-enough-0123',
        BCRYPT_ROUNDS: '4',
        // the open crowd (every account's records count), as in test/test-app.ts
        RATE_CONTRIBUTOR_MIN_DEPOSIT_USD: '0',
        RATE_CONTRIBUTOR_MIN_AGE_HOURS: '0',
      });
    });
    afterAll(async () => {
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it(`${CONNECTIONS} concurrent chunked 4 MB bodies: each 413, RSS grows by less than 100 MB`, async () => {
      const s = server as ServerProcess;
      for (let i = 0; i < 20; i++) await call(s.base, 'GET', '/health'); // warm
      await sleep(500);
      const idle = rssOf(s.pid);
      let peak = idle;
      const sampler = setInterval(() => {
        peak = Math.max(peak, rssOf(s.pid));
      }, 25);
      let answers: { status: number; body: string; error?: string }[];
      try {
        answers = await Promise.all(
          Array.from({ length: CONNECTIONS }, () => streamChunked(s.base, '/login')),
        );
      } finally {
        clearInterval(sampler);
      }
      peak = Math.max(peak, rssOf(s.pid));
      // every upload was refused: a 413 read by the client, or the connection closed under it
      const outcomes = new Map<string, number>();
      for (const a of answers) {
        const key = a.status === 0 ? (a.error ?? 'closed') : String(a.status);
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      }
      expect([...outcomes.keys()].filter((k) => !['413', 'ECONNRESET', 'EPIPE'].includes(k))).toEqual([]);
      expect(outcomes.get('413') ?? 0).toBeGreaterThan(0);
      const read = answers.find((a) => a.status === 413);
      expect(JSON.parse(read?.body ?? '{}')).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', statusCode: 413 });
      const growthMb = (peak - idle) / 1024 / 1024;
      expect({ growthMb: Math.round(growthMb), under: growthMb < RSS_GROWTH_LIMIT / 1024 / 1024 }).toEqual({
        growthMb: Math.round(growthMb),
        under: true,
      });
      // and it still answers
      expect((await call(s.base, 'GET', '/health')).status).toBe(200);
    });
  },
);
