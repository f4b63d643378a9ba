import { request } from 'node:http';
import { LeaseService } from '../src/scheduler/lease.service';
import { SchedulerService } from '../src/scheduler/scheduler.service';
import { OffersService } from '../src/market/offers.service';
import { call } from './support/http-client';
import { BUILT_MAIN, ensureBuilt, ServerProcess } from './support/server-process';
import { SseClient } from './support/sse-client';
import { startTestApp } from './test-app';

/**
 * Graceful shutdown of the built server (`node dist/src/main.js`) on SIGTERM: it stops accepting at
 * once, ends the live streams, lets a request in flight finish (within SHUTDOWN_TIMEOUT_MS, cut
 * after it), and exits 0. And the scheduler's part: a job in progress is waited for and releases
 * its lease, and no job starts after the stop.
 */

jest.setTimeout(120_000);

const PASSWORD = 'correct-horse-1';

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    JWT_SECRET_KEY: 'shutdown-e2e-secret-0123456789abcdef',
    BCRYPT_ROUNDS: '4',
    // the open crowd (every account's records count), as in test/test-app.ts
    RATE_CONTRIBUTOR_MIN_DEPOSIT_USD: '0',
    RATE_CONTRIBUTOR_MIN_AGE_HOURS: '0',
    DB_TYPE: 'sqlite',
    SQLITE_PATH: 'data.sqlite',
    SCHEDULER_ENABLED: 'false',
    ...extra,
  };
}

/** A POST /login whose body arrives in two parts: the request is in flight until `finish()`. */
function slowLogin(
  base: string,
  userName: string,
): { finish: () => void; done: Promise<{ status: number; body: string }> } {
  const url = new URL(base);
  const payload = JSON.stringify({ user_name: userName, password: PASSWORD });
  const half = Math.floor(payload.length / 2);
  let finish = () => undefined as void;
  const done = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: '/login',
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.write(payload.slice(0, half));
    finish = () => {
      req.end(payload.slice(half));
    };
  });
  return { finish: () => finish(), done };
}

async function register(base: string, prefix: string): Promise<{ userName: string; token: string }> {
  const userName = `${prefix}_${Math.random().toString(36).slice(2, 8)}`;
  expect(
    (await call(base, 'POST', '/user', { body: { user_name: userName, password: PASSWORD } })).status,
  ).toBe(201);
  const login = await call(base, 'POST', '/login', { body: { user_name: userName, password: PASSWORD } });
  expect(login.status).toBe(200);
  return { userName, token: login.json<{ access_token: string }>().access_token };
}

async function refused(base: string): Promise<boolean> {
  try {
    await call(base, 'GET', '/health/live', { timeoutMs: 2_000 });
    return false;
  } catch (err) {
    return /ECONNREFUSED/.test(String((err as { code?: string }).code ?? err));
  }
}

describe('graceful shutdown of the built server (SIGTERM)', () => {
  beforeAll(async () => {
    await ensureBuilt();
  }, 180_000);

  it('stops accepting, ends the streams, finishes the request in flight, exits 0', async () => {
    const server = await ServerProcess.start('S', BUILT_MAIN, env({ SHUTDOWN_TIMEOUT_MS: '10000' }));
    try {
      const user = await register(server.base, 'sd');
      const ticket = await call(server.base, 'POST', '/stream/ticket', { token: user.token });
      const stream = await SseClient.open(
        server.base,
        `/stream?ticket=${ticket.json<{ ticket: string }>().ticket}`,
      );
      await stream.next((e) => e.type === 'rate');
      const inFlight = slowLogin(server.base, user.userName);
      await new Promise((r) => setTimeout(r, 200)); // the first half has arrived

      const started = Date.now();
      server.signal('SIGTERM');
      await stream.ended; // the stream is ended by the server
      expect(Date.now() - started).toBeLessThan(3_000);
      // no new connection is accepted any more
      for (let i = 0; i < 20 && !(await refused(server.base)); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(await refused(server.base)).toBe(true);
      // but the request in flight is still answered, in full
      await new Promise((r) => setTimeout(r, 300));
      inFlight.finish();
      const res = await inFlight.done;
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toHaveProperty('access_token');

      const exit = await server.exitStatus();
      expect(exit).toEqual({ code: 0, signal: null });
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(server.logs()).toMatch(/SIGTERM: shutting down/);
      expect(server.logs()).toMatch(/stopped: 1 live stream\(s\) closed, requests finished, jobs finished/);
    } finally {
      await server.stop();
    }
  });

  it('a request still in flight at SHUTDOWN_TIMEOUT_MS is cut, and the process still exits 0', async () => {
    const server = await ServerProcess.start('T', BUILT_MAIN, env({ SHUTDOWN_TIMEOUT_MS: '1000' }));
    try {
      const user = await register(server.base, 'sd');
      const stuck = slowLogin(server.base, user.userName); // never finished
      const outcome = stuck.done.then(
        (r) => `answered ${r.status}`,
        (err: unknown) => `cut: ${String((err as { code?: string }).code ?? err)}`,
      );
      await new Promise((r) => setTimeout(r, 200));
      const started = Date.now();
      server.signal('SIGTERM');
      expect(await server.exitStatus()).toEqual({ code: 0, signal: null });
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(900);
      expect(took).toBeLessThan(8_000);
      expect(await outcome).toMatch(/^cut: /);
      expect(server.logs()).toMatch(/requests cut at the deadline/);
    } finally {
      await server.stop();
    }
  });
});

describe('scheduler at shutdown', () => {
  it('waits for the job in progress, which releases its lease; no job starts after the stop', async () => {
    const t = await startTestApp();
    try {
      const scheduler = t.app.get(SchedulerService);
      const leases = t.app.get(LeaseService);
      let release = () => undefined as void;
      const gate = new Promise<void>((r) => {
        release = () => r();
      });
      const spy = jest.spyOn(t.app.get(OffersService), 'expireDue').mockImplementation(async () => {
        await gate;
        return { expired: 0, failed: 0 };
      });
      const running = scheduler.runJob('offer-expiry', 'shutdown-test');
      for (let i = 0; i < 100 && (await leases.find('offer-expiry'))?.holder !== 'shutdown-test'; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect((await leases.find('offer-expiry'))?.holder).toBe('shutdown-test');

      // the wait is bounded: a job that outlives it is reported, not waited for for ever
      const t0 = Date.now();
      expect(await scheduler.stop(300)).toBe(false);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
      // within the bound, the stop waits for the job
      let stopped = false;
      const stopping = scheduler.stop(10_000).then((ended) => {
        stopped = true;
        return ended;
      });
      await new Promise((r) => setTimeout(r, 200));
      expect(stopped).toBe(false);
      expect(await scheduler.runJob('alerts-sweep', 'shutdown-test')).toBe(false); // nothing new starts
      release();
      expect(await stopping).toBe(true);
      expect(await running).toBe(true);
      // its lease is released: expired now, so another instance may take it at once
      const lease = await leases.find('offer-expiry');
      expect(lease?.expiresAt.getTime()).toBeLessThanOrEqual(Date.now());
      spy.mockRestore();
    } finally {
      await t.close();
    }
  });
});
