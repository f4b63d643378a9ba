import { createUser, type TestUser } from './factories/users';
import { TcpProxy } from './support/tcp-proxy';
import { E2E_DB, type Res, startTestApp, type TestApp } from './test-app';

/**
 * The database goes away for real and comes back: the app reaches MariaDB through a TCP proxy that
 * the test cuts (every connection dropped, new ones refused) and restores. While it is away, every
 * request that needs the database answers 503 SERVICE_UNAVAILABLE with Retry-After in the error
 * shape (never 401: tokens stay valid; never 500), liveness still answers, readiness does not; a
 * write refused then leaves nothing behind; afterwards the same tokens work again without a login.
 * MariaDB only (the embedded SQLite cannot become unreachable): runs in the MariaDB e2e pass.
 */

jest.setTimeout(60_000);

const run = E2E_DB === 'mysql' ? describe : describe.skip;

run('database outage (MariaDB behind a TCP proxy the test cuts)', () => {
  let proxy: TcpProxy;
  let t: TestApp;
  let alice: TestUser;

  beforeAll(async () => {
    proxy = await TcpProxy.start(process.env.DB_HOST ?? '127.0.0.1', Number(process.env.DB_PORT ?? 3306));
    t = await startTestApp({
      DB_HOST: '127.0.0.1',
      DB_PORT: String(proxy.port),
      // the Galera run of .ci/run: the node behind the proxy as a cluster of one (the outage has
      // nowhere to fail over to)
      ...(process.env.E2E_CLUSTER_URLS
        ? {
            DB_CLUSTER_URLS: `mysql://${encodeURIComponent(process.env.DB_USER ?? 'root')}:${encodeURIComponent(process.env.DB_PASSWORD ?? '')}@127.0.0.1:${proxy.port}`,
          }
        : {}),
      RATE_MIN_CONTRIBUTORS: '1',
      TRANSACTION_RATE_LIMIT: '1000',
    });
    alice = await createUser(t, 'outage');
    const rec = await t.request('POST', '/transaction', {
      token: alice.access,
      body: { usd_amount: 100, lbp_amount: 8_950_000, usd_to_lbp: true },
    });
    expect(rec.statusCode).toBe(201);
  });
  afterAll(async () => {
    await proxy?.restore();
    await t?.close();
    await proxy?.close();
  });

  const expect503 = (res: Res, what: string): void => {
    expect({ what, status: res.statusCode }).toEqual({ what, status: 503 });
    expect(res.json()).toEqual({
      error: expect.any(String),
      code: 'SERVICE_UNAVAILABLE',
      statusCode: 503,
    });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  };

  it('while it is away: 503 with Retry-After for every database route, never 401 or 500', async () => {
    await proxy.cut();
    const token = alice.access;
    const calls: [string, string, unknown?][] = [
      ['GET', '/whoami'],
      ['GET', '/wallet'],
      ['GET', '/transactions'],
      ['POST', '/transaction', { usd_amount: 50, lbp_amount: 4_480_000, usd_to_lbp: true }],
      ['GET', '/notifications'],
      ['GET', '/market/offers'],
      ['POST', '/stream/ticket'],
    ];
    // twice: the first round meets the pool's dropped connections, the second the refused connects
    for (let round = 0; round < 2; round++) {
      for (const [method, url, body] of calls) {
        expect503(await t.request(method, url, { token, body }), `${method} ${url} (round ${round})`);
      }
    }
    // public routes that need the database too
    expect503(
      await t.request('POST', '/login', { body: { user_name: alice.userName, password: alice.password } }),
      'POST /login',
    );
    expect503(
      await t.request('POST', '/user', {
        body: { user_name: 'outage_new_user', password: 'correct-horse-1' },
      }),
      'POST /user',
    );
    // the health routes: liveness yes, readiness and /health no
    expect((await t.request('GET', '/health/live')).statusCode).toBe(200);
    const ready = await t.request('GET', '/health/ready');
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({
      code: 'NOT_READY',
      details: [expect.objectContaining({ field: 'db' })],
    });
    expect((await t.request('GET', '/health')).statusCode).toBe(503);
    // the public rate is served from what the instance already knows, or 503: never a 500
    expect([200, 503]).toContain((await t.request('GET', '/exchangeRate')).statusCode);
  });

  it('once it is back: the same tokens work without a new login, and the refused write left nothing', async () => {
    await proxy.restore();
    let who: Res | undefined;
    const end = Date.now() + 15_000;
    while (Date.now() < end) {
      who = await t.request('GET', '/whoami', { token: alice.access });
      expect(who.statusCode === 401 || who.statusCode === 500).toBe(false);
      if (who.statusCode === 200) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(who?.statusCode).toBe(200);
    expect(who?.json()).toMatchObject({ id: alice.id });
    // the refresh token of the same login works too
    expect((await t.request('POST', '/refresh', { token: alice.refresh })).statusCode).toBe(200);
    // the POST /transaction refused during the outage recorded nothing
    const list = await t.request('GET', '/transactions', { token: alice.access });
    expect(list.json<unknown[]>()).toHaveLength(1);
    const rec = await t.request('POST', '/transaction', {
      token: alice.access,
      body: { usd_amount: 50, lbp_amount: 4_480_000, usd_to_lbp: true },
    });
    expect(rec.statusCode).toBe(201);
    expect((await t.request('GET', '/health/ready')).statusCode).toBe(200);
  });
});
