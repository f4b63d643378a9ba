import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { verify } from '../src/webhooks/signing';
import { WebhookDeliveryEntity } from '../src/webhooks/webhook-delivery.entity';
import { WebhookDispatcher } from '../src/webhooks/webhook-dispatcher';
import { createAdmin, createUser, type TestUser } from './factories/users';
import { call } from './support/http-client';
import { BUILT_MAIN, ensureBuilt, ServerProcess, sleep } from './support/server-process';
import { E2E_DB, mysqlAdmin, type Res, startTestApp, type TestApp } from './test-app';

/**
 * Issue 25: signed webhooks with an outbox, retries and a delivery log. A local receiver on a
 * loopback port (so these run with WEBHOOK_ALLOW_HTTP and WEBHOOK_ALLOW_PRIVATE, except the SSRF
 * tests, which run without them).
 */

jest.setTimeout(180_000);

interface Received {
  id: string;
  timestamp: number;
  signature: string;
  body: string;
  at: number;
}

/** A receiver whose answers a test scripts: the next statuses, then `fallback`; it records every request. */
class Receiver {
  readonly received: Received[] = [];
  script: number[] = [];
  fallback = 200;
  delayMs = 0;
  private inFlight = new Map<string, number>();
  maxConcurrentPerId = 0;
  private server: Server | null = null;
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const id = String(req.headers['webhook-id']);
        const n = (this.inFlight.get(id) ?? 0) + 1;
        this.inFlight.set(id, n);
        this.maxConcurrentPerId = Math.max(this.maxConcurrentPerId, n);
        this.received.push({
          id,
          timestamp: Number(req.headers['webhook-timestamp']),
          signature: String(req.headers['webhook-signature']),
          body,
          at: Date.now(),
        });
        const status = this.script.length > 0 ? (this.script.shift() as number) : this.fallback;
        setTimeout(() => {
          this.inFlight.set(id, (this.inFlight.get(id) ?? 1) - 1);
          if (status === 0) return; // never answers
          res.writeHead(status, status === 302 ? { location: 'http://127.0.0.1:1/elsewhere' } : {});
          res.end(status >= 400 ? 'receiver says no' : 'ok');
        }, this.delayMs);
      });
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  async until(pred: () => boolean, ms = 15_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > deadline)
        throw new Error(`receiver: condition not met within ${ms} ms (${this.received.length} received)`);
      await sleep(25);
    }
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

const LOCAL = {
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_ALLOW_PRIVATE: 'true',
  WEBHOOK_RETRY_BASE_SECONDS: '0.1',
  WEBHOOK_TIMEOUT_MS: '500',
  WEBHOOK_MAX_ATTEMPTS: '4',
  FUNDING_RATE_LIMIT: '1000',
  WEBHOOK_RATE_LIMIT: '1000',
};

function hooks(t: () => TestApp) {
  const create = (u: TestUser, body: unknown): Promise<Res> =>
    t().request('POST', '/webhooks', { token: u.access, body });
  const deliveries = async (u: TestUser, id: number) =>
    (await t().request('GET', `/webhooks/${id}/deliveries`, { token: u.access })).json<
      {
        id: number;
        event_id: string;
        event_type: string;
        status: string;
        attempts: number;
        last_status_code: number | null;
        last_error: string | null;
      }[]
    >();
  return { create, deliveries };
}

describe('webhooks: registration, signing, retries, the delivery log', () => {
  let t: TestApp;
  let admin: TestUser;
  let receiver: Receiver;
  const h = hooks(() => t);

  beforeAll(async () => {
    t = await startTestApp(LOCAL);
    admin = await createAdmin(t);
    receiver = await new Receiver().start();
  });
  afterAll(async () => {
    await receiver.stop();
    await t.close();
  });

  it('an answer of 500, 500, then 200: one delivery, three attempts, one webhook-id, valid signatures', async () => {
    const u = await createUser(t, 'hooked');
    const created = await h.create(u, { url: receiver.url, events: ['notification'] });
    expect(created.statusCode).toBe(201);
    const hook = created.json<{ id: number; secret: string; url: string; events: string[] }>();
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
    expect(hook).toMatchObject({ url: receiver.url, events: ['notification'], status: 'ACTIVE' });
    // a notification: a deposit the admin confirms
    receiver.script = [500, 500];
    const d = await t.request('POST', '/wallet/deposits', {
      token: u.access,
      body: { currency: 'USD', amount: 25 },
    });
    const confirm = await t.request('POST', `/admin/deposits/${d.json().id}/confirm`, {
      token: admin.access,
    });
    expect(confirm.statusCode).toBe(200);
    await receiver.until(() => receiver.received.length >= 3);
    const got = receiver.received.slice(0, 3);
    expect(new Set(got.map((r) => r.id)).size).toBe(1);
    expect(got[0].id).toMatch(/^msg_[0-9a-f]{32}$/);
    for (const r of got) expect(verify(hook.secret, r.id, r.timestamp, r.body, r.signature)).toBe(true);
    const payload = JSON.parse(got[0].body);
    expect(payload).toMatchObject({
      type: 'notification',
      data: { event_type: 'DEPOSIT_COMPLETED', ref_type: 'deposit', ref_id: d.json().id },
    });
    // the retries waited (0.1 s, then about 0.35 s, with jitter)
    expect(got[1].at - got[0].at).toBeGreaterThanOrEqual(60);
    // the attempt's outcome is recorded once the receiver's answer is in
    let log = await h.deliveries(u, hook.id);
    for (let i = 0; i < 100 && log[0]?.status !== 'DELIVERED'; i++) {
      await sleep(20);
      log = await h.deliveries(u, hook.id);
    }
    expect(log).toEqual([
      expect.objectContaining({
        event_id: got[0].id,
        event_type: 'notification',
        status: 'DELIVERED',
        attempts: 3,
        last_status_code: 200,
      }),
    ]);
    // the list never shows the secret again
    const list = (await t.request('GET', '/webhooks', { token: u.access })).json();
    expect(list).toEqual([expect.not.objectContaining({ secret: expect.anything() })]);
  });

  it('a test ping, a rotated secret that signs with both, redirects not followed, timeouts, FAILED and a retry', async () => {
    const u = await createUser(t, 'rotator');
    const hook = (await h.create(u, { url: receiver.url, events: ['notification'] })).json<{
      id: number;
      secret: string;
    }>();
    const rotated = await t.request('POST', `/webhooks/${hook.id}/rotate-secret`, { token: u.access });
    expect(rotated.statusCode).toBe(200);
    const fresh = rotated.json<{ secret: string; previous_secret_valid_until: string }>();
    expect(fresh.secret).not.toBe(hook.secret);
    const before = receiver.received.length;
    receiver.script = [];
    const ping = await t.request('POST', `/webhooks/${hook.id}/test`, { token: u.access });
    expect(ping.statusCode).toBe(201);
    await receiver.until(() => receiver.received.length > before);
    const r = receiver.received[before];
    expect(r.id).toBe(ping.json().event_id);
    expect(JSON.parse(r.body).type).toBe('ping');
    expect(r.signature.split(' ')).toHaveLength(2);
    expect(verify(fresh.secret, r.id, r.timestamp, r.body, r.signature)).toBe(true);
    expect(verify(hook.secret, r.id, r.timestamp, r.body, r.signature)).toBe(true);

    // a redirect is a failure (not followed), a silent receiver times out; after WEBHOOK_MAX_ATTEMPTS (4 here) FAILED
    receiver.script = [302, 0, 500, 500];
    const failing = await t.request('POST', `/webhooks/${hook.id}/test`, { token: u.access });
    const eventId = failing.json().event_id as string;
    const deadline = Date.now() + 60_000;
    let entry: Awaited<ReturnType<typeof h.deliveries>>[number] | undefined;
    while (Date.now() < deadline) {
      entry = (await h.deliveries(u, hook.id)).find((x) => x.event_id === eventId);
      if (entry?.status === 'FAILED') break;
      await sleep(100);
    }
    expect(entry).toMatchObject({ status: 'FAILED', attempts: 4, last_status_code: 500 });
    const attempts = receiver.received.filter((x) => x.id === eventId);
    expect(attempts).toHaveLength(4);
    // one more attempt of a FAILED delivery, on request
    receiver.script = [];
    const retry = await t.request('POST', `/webhooks/${hook.id}/deliveries/${entry?.id}/retry`, {
      token: u.access,
    });
    expect(retry.statusCode).toBe(200);
    await receiver.until(() => receiver.received.filter((x) => x.id === eventId).length === 5);
    await sleep(100);
    expect((await h.deliveries(u, hook.id)).find((x) => x.event_id === eventId)).toMatchObject({
      status: 'DELIVERED',
      attempts: 5,
    });
    // what those attempts met: a redirect (not followed) and a receiver that never answered
    const dispatcher = t.app.get(WebhookDispatcher);
    receiver.script = [302, 0];
    const redirect = await dispatcher.post(receiver.url, { eventId: 'msg_r', payload: '{}' }, [fresh.secret]);
    expect(redirect).toMatchObject({
      ok: false,
      status: 302,
      error: expect.stringContaining('redirects are not followed'),
    });
    const silent = await dispatcher.post(receiver.url, { eventId: 'msg_s', payload: '{}' }, [fresh.secret]);
    expect(silent).toMatchObject({ ok: false, status: null, error: 'no answer within 500 ms' });
  });

  it("validates what it registers; another user's webhooks and deliveries are 404", async () => {
    const u = await createUser(t, 'owner');
    const other = await createUser(t, 'stranger');
    for (const body of [
      { url: 'not a url', events: ['notification'] },
      { url: receiver.url, events: [] },
      { url: receiver.url, events: ['everything'] },
      { url: receiver.url, events: ['deposit.requested'] }, // for admins only
      { url: 'http://user:pass@127.0.0.1/x', events: ['notification'] },
      { url: 'ftp://127.0.0.1/x', events: ['notification'] },
      { url: receiver.url, events: ['notification'], secret: 'mine' },
    ]) {
      const res = await h.create(u, body);
      expect({ body, status: res.statusCode, code: res.json().code }).toEqual({
        body,
        status: 400,
        code: 'VALIDATION_FAILED',
      });
    }
    const ids: number[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await h.create(u, { url: receiver.url, events: ['notification'] })).json().id as number);
    const sixth = await h.create(u, { url: receiver.url, events: ['notification'] });
    expect([sixth.statusCode, sixth.json().code]).toEqual([400, 'VALIDATION_FAILED']);
    for (const [method, path] of [
      ['GET', `/webhooks/${ids[0]}/deliveries`],
      ['DELETE', `/webhooks/${ids[0]}`],
      ['POST', `/webhooks/${ids[0]}/rotate-secret`],
      ['POST', `/webhooks/${ids[0]}/test`],
      ['POST', `/webhooks/${ids[0]}/deliveries/1/retry`],
    ]) {
      const res = await t.request(method, path, { token: other.access });
      expect({ path, status: res.statusCode, code: res.json().code }).toEqual({
        path,
        status: 404,
        code: 'WEBHOOK_NOT_FOUND',
      });
    }
    expect((await t.request('GET', '/webhooks', { token: other.access })).json()).toEqual([]);
    expect((await t.request('DELETE', `/webhooks/${ids[0]}`, { token: u.access })).statusCode).toBe(200);
    expect((await t.request('GET', '/webhooks', { token: u.access })).json()).toHaveLength(4);
  });

  it('an alert that fires reaches its owner as a signed POST', async () => {
    const u = await createUser(t, 'alerted');
    const hook = (await h.create(u, { url: receiver.url, events: ['notification'] })).json<{
      id: number;
      secret: string;
    }>();
    expect(
      (
        await t.request('POST', '/alerts', {
          token: u.access,
          body: { direction: 'usd_to_lbp', condition: 'above', threshold: 90_000 },
        })
      ).statusCode,
    ).toBe(201);
    const before = receiver.received.length;
    receiver.script = [];
    for (const rate of [90_100, 90_200, 90_300]) {
      const c = await createUser(t, 'mover');
      await t.request('POST', '/transaction', {
        token: c.access,
        body: { usd_amount: 100, lbp_amount: 100 * rate, usd_to_lbp: true },
      });
    }
    await receiver.until(() =>
      receiver.received.slice(before).some((r) => JSON.parse(r.body).data?.event_type === 'ALERT_TRIGGERED'),
    );
    const r = receiver.received
      .slice(before)
      .find((x) => JSON.parse(x.body).data?.event_type === 'ALERT_TRIGGERED');
    expect(verify(hook.secret, r?.id ?? '', r?.timestamp ?? 0, r?.body ?? '', r?.signature ?? '')).toBe(true);
    expect(JSON.parse(r?.body ?? '{}')).toMatchObject({ type: 'notification', data: { ref_type: 'alert' } });
  });

  it("admins' platform events: a deposit requested", async () => {
    const hook = (await h.create(admin, { url: receiver.url, events: ['deposit.requested'] })).json<{
      id: number;
      secret: string;
    }>();
    const u = await createUser(t, 'depositor');
    const before = receiver.received.length;
    receiver.script = [];
    const d = await t.request('POST', '/wallet/deposits', {
      token: u.access,
      body: { currency: 'USD', amount: 12 },
    });
    await receiver.until(() =>
      receiver.received.slice(before).some((r) => JSON.parse(r.body).type === 'deposit.requested'),
    );
    const r = receiver.received.slice(before).find((x) => JSON.parse(x.body).type === 'deposit.requested');
    expect(JSON.parse(r?.body ?? '{}').data).toMatchObject({
      id: d.json().id,
      user_id: u.id,
      amount: 12,
      status: 'PENDING',
    });
    expect(verify(hook.secret, r?.id ?? '', r?.timestamp ?? 0, r?.body ?? '', r?.signature ?? '')).toBe(true);
  });
});

describe('an endpoint failing for WEBHOOK_DISABLE_AFTER_HOURS is disabled and its owner told', () => {
  let t: TestApp;
  let receiver: Receiver;
  const h = hooks(() => t);

  beforeAll(async () => {
    t = await startTestApp({
      ...LOCAL,
      WEBHOOK_DISABLE_AFTER_HOURS: '0.001', // 3.6 s
      WEBHOOK_RETRY_BASE_SECONDS: '0.2',
      WEBHOOK_MAX_ATTEMPTS: '10',
    });
    receiver = await new Receiver().start();
    receiver.fallback = 503;
  });
  afterAll(async () => {
    await receiver.stop();
    await t.close();
  });

  it('3.6 s of failures here', async () => {
    const u = await createUser(t, 'flaky');
    const hook = (await h.create(u, { url: receiver.url, events: ['notification'] })).json<{ id: number }>();
    await t.request('POST', `/webhooks/${hook.id}/test`, { token: u.access });
    const deadline = Date.now() + 30_000;
    let list: { status: string; disabled_reason: string | null }[] = [];
    while (Date.now() < deadline) {
      list = (await t.request('GET', '/webhooks', { token: u.access })).json();
      if (list[0]?.status === 'DISABLED') break;
      await sleep(100);
    }
    expect(list[0]).toMatchObject({ status: 'DISABLED', disabled_reason: expect.stringContaining('503') });
    const notes = (await t.request('GET', '/notifications', { token: u.access })).json<
      { event_type: string }[]
    >();
    expect(notes.map((n) => n.event_type)).toContain('WEBHOOK_DISABLED');
    expect((await h.deliveries(u, hook.id))[0]).toMatchObject({ status: 'FAILED' });
  });
});

describe('SSRF: private targets are refused without WEBHOOK_ALLOW_PRIVATE', () => {
  let t: TestApp;
  let u: TestUser;
  const h = hooks(() => t);

  beforeAll(async () => {
    t = await startTestApp({ WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_RATE_LIMIT: '1000' });
    u = await createUser(t, 'ssrf');
  });
  afterAll(() => t.close());

  it.each([
    'http://127.0.0.1/hook',
    'http://10.0.0.1/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://localhost:8080/hook',
    'http://[::1]/hook',
    'http://192.168.1.10/hook',
    'http://0.0.0.0/hook',
  ])('%s → 400', async (url) => {
    const res = await h.create(u, { url, events: ['notification'] });
    expect([res.statusCode, res.json().code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(res.json().details[0]).toMatchObject({ field: 'url' });
  });

  it('https only without WEBHOOK_ALLOW_HTTP; a name that does not resolve is refused', async () => {
    const strict = await startTestApp({});
    try {
      const v = await createUser(strict, 'strict');
      const res = await strict.request('POST', '/webhooks', {
        token: v.access,
        body: { url: 'http://hooks.example.com/x', events: ['notification'] },
      });
      expect(res.json().details[0].message).toBe('must be https');
      const nx = await strict.request('POST', '/webhooks', {
        token: v.access,
        body: { url: 'https://no-such-host.invalid/x', events: ['notification'] },
      });
      expect([nx.statusCode, nx.json().details[0].message]).toEqual([
        400,
        expect.stringContaining('does not resolve'),
      ]);
    } finally {
      await strict.close();
    }
  });

  it('the connection itself is checked again: a name that resolves to loopback is not reached', async () => {
    const receiver = await new Receiver().start();
    try {
      const result = await t.app
        .get(WebhookDispatcher)
        .post(`http://localhost:${receiver.port}/hook`, { eventId: 'msg_x', payload: '{}' }, ['whsec_AAAA']);
      expect(result).toMatchObject({ ok: false, error: expect.stringContaining('private, loopback') });
      const literal = await t.app
        .get(WebhookDispatcher)
        .post(`http://127.0.0.1:${receiver.port}/hook`, { eventId: 'msg_y', payload: '{}' }, ['whsec_AAAA']);
      expect(literal.ok).toBe(false);
      expect(receiver.received).toHaveLength(0);
    } finally {
      await receiver.stop();
    }
  });
});

describe('two instances sweeping at once', () => {
  let a: TestApp;
  let b: TestApp;
  let dir: string;
  let receiver: Receiver;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'webhooks-two-'));
    a = await startTestApp(LOCAL, { sqliteFile: join(dir, 'shared.sqlite') });
    b = await startTestApp({ ...LOCAL, MIGRATIONS_RUN: 'false' }, { sameDatabaseAs: a });
    receiver = await new Receiver().start();
  });
  afterAll(async () => {
    await receiver.stop();
    await b.close();
    await a.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('each delivery is attempted by one instance at a time and delivered once', async () => {
    const u = await createUser(a, 'busy');
    const hook = (await hooks(() => a).create(u, { url: receiver.url, events: ['notification'] })).json<{
      id: number;
    }>();
    // 40 due deliveries written straight into the outbox (no commit kicks a dispatcher)
    const now = new Date();
    const rows = Array.from({ length: 40 }, (_, i) => ({
      endpointId: hook.id,
      eventId: `msg_${String(i).padStart(32, '0')}`,
      eventType: 'ping',
      payload: JSON.stringify({ type: 'ping', timestamp: now.toISOString(), data: { i } }),
      status: 'PENDING' as const,
      attempts: 0,
      nextAttemptAt: now,
      lastStatusCode: null,
      lastError: null,
      claimedBy: null,
      claimedUntil: null,
      createdAt: now,
      deliveredAt: null,
    }));
    await a.app.get(DataSource).getRepository(WebhookDeliveryEntity).insert(rows);
    receiver.delayMs = 30;
    // every fourth attempt fails once, so retries race too
    receiver.script = Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? 500 : 200));
    const [da, db] = [a.app.get(WebhookDispatcher), b.app.get(WebhookDispatcher)];
    const deadline = Date.now() + 30_000;
    const delivered = async () =>
      a.app
        .get(DataSource)
        .getRepository(WebhookDeliveryEntity)
        .count({ where: { status: 'DELIVERED' } });
    while ((await delivered()) < 40 && Date.now() < deadline)
      await Promise.all([da.sweep(), db.sweep(), da.sweep(), db.sweep()]);
    expect(await delivered()).toBe(40);
    expect(receiver.maxConcurrentPerId).toBe(1);
    const perId = new Map<string, number>();
    for (const r of receiver.received) perId.set(r.id, (perId.get(r.id) ?? 0) + 1);
    expect(perId.size).toBe(40);
    const all = await a.app.get(DataSource).getRepository(WebhookDeliveryEntity).find();
    for (const d of all) expect(perId.get(d.eventId)).toBe(d.attempts);
  });
});

describe('a server killed with SIGKILL while a delivery is pending delivers it after the restart', () => {
  let receiver: Receiver;
  let dir: string;
  let dbName: string | null = null;

  beforeAll(async () => {
    await ensureBuilt();
    receiver = await new Receiver().start();
    dir = mkdtempSync(join(tmpdir(), 'webhooks-kill-'));
    if (E2E_DB === 'mysql') {
      dbName = `e2e_kill_${process.pid}_${Date.now() % 100000}`;
      await mysqlAdmin((c) =>
        c.query(`CREATE DATABASE \`${dbName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`),
      );
    }
  });
  afterAll(async () => {
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
    if (dbName) await mysqlAdmin((c) => c.query(`DROP DATABASE IF EXISTS \`${dbName}\``));
  });

  it('kill -9 after the first failed attempt; the restarted server sends it again, same webhook-id', async () => {
    const env = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      JWT_SECRET_KEY: 'webhooks-kill-secret-0123456789abcdef',
      BCRYPT_ROUNDS: '4',
      ...(E2E_DB === 'mysql'
        ? {
            DB_TYPE: 'mysql',
            DB_HOST: process.env.DB_HOST ?? '127.0.0.1',
            DB_PORT: process.env.DB_PORT ?? '3306',
            DB_USER: process.env.DB_USER ?? 'root',
            DB_PASSWORD: process.env.DB_PASSWORD ?? '',
            DB_NAME: dbName ?? '',
          }
        : { DB_TYPE: 'sqlite', SQLITE_PATH: join(dir, 'data.sqlite') }),
      ...LOCAL,
      WEBHOOK_RETRY_BASE_SECONDS: '2',
      CRON_WEBHOOK_SWEEP: '* * * * * *',
    };
    let server = await ServerProcess.start('webhooks-a', BUILT_MAIN, env);
    try {
      const name = `killme${Date.now() % 100000}`;
      await call(server.base, 'POST', '/user', { body: { user_name: name, password: 'correct-horse-1' } });
      const login = await call(server.base, 'POST', '/login', {
        body: { user_name: name, password: 'correct-horse-1' },
      });
      const token = login.json<{ access_token: string }>().access_token;
      const hook = await call(server.base, 'POST', '/webhooks', {
        token,
        body: { url: receiver.url, events: ['notification'] },
      });
      expect(hook.status).toBe(201);
      receiver.fallback = 500;
      const ping = await call(server.base, 'POST', `/webhooks/${hook.json<{ id: number }>().id}/test`, {
        token,
      });
      const eventId = ping.json<{ event_id: string }>().event_id;
      await receiver.until(() => receiver.received.some((r) => r.id === eventId));
      server.signal('SIGKILL');
      await server.exitStatus();
      receiver.fallback = 200;
      const attemptsBefore = receiver.received.filter((r) => r.id === eventId).length;
      server = await ServerProcess.start('webhooks-b', BUILT_MAIN, { ...env, MIGRATIONS_RUN: 'false' });
      await receiver.until(
        () => receiver.received.filter((r) => r.id === eventId).length > attemptsBefore,
        30_000,
      );
      const last = receiver.received.filter((r) => r.id === eventId).pop();
      const secret = hook.json<{ secret: string }>().secret;
      expect(verify(secret, eventId, last?.timestamp ?? 0, last?.body ?? '', last?.signature ?? '')).toBe(
        true,
      );
    } finally {
      await server.stop();
    }
  });
});
