import Redis from 'ioredis';
import { uniqueName } from './factories/users';
import { redisServerAvailable, TestRedis } from './support/redis-server';
import { startTestApp, type TestApp } from './test-app';

/**
 * Redis goes away and comes back, for real: a redis-server this test starts, kills and starts
 * again on the same port. Throughout, no request fails because of it (never a 500), the rate
 * limits keep holding (on this instance's counters while Redis is down), readiness and the metrics
 * say where the counters live, and the limits go back to Redis when it returns.
 * Needs `redis-server` (CI installs it; required when REQUIRE_REDIS=true).
 */

jest.setTimeout(60_000);

const available = redisServerAvailable();
if (!available && process.env.REQUIRE_REDIS === 'true') {
  throw new Error('redis-server is required (REQUIRE_REDIS=true) but cannot be run');
}
const run = available ? describe : describe.skip;

const LOGIN_LIMIT = 3;
const METRICS_TOKEN = 'redis-outage-metrics-token-0123';

interface Ready {
  status: string;
  redis: string;
  rate_limits: string;
}

run('Redis outage (a redis-server the test starts and stops)', () => {
  let redis: TestRedis;
  let t: TestApp;

  beforeAll(async () => {
    redis = await TestRedis.create();
    await redis.start();
    t = await startTestApp({
      REDIS_URL: redis.url,
      LOGIN_RATE_LIMIT: String(LOGIN_LIMIT),
      REGISTER_RATE_LIMIT: '1000',
      METRICS_TOKEN,
    });
  });
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  const ready = async () => {
    const res = await t.request('GET', '/health/ready');
    return { status: res.statusCode, body: res.json<Ready>() };
  };
  const fallbackGauge = async (): Promise<number> => {
    const res = await t.request('GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    const line = res.body.split('\n').find((l) => l.startsWith('exchange_rate_limit_fallback '));
    return Number(line?.split(' ')[1]);
  };
  /** Wrong-password logins for one fresh name, from fresh addresses (only the per-name limit counts). */
  const loginStatuses = async (n: number): Promise<number[]> => {
    const name = uniqueName('victim');
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const res = await t.request('POST', '/login', {
        body: { user_name: name, password: 'wrong-password' },
        ip: `127.${(i % 200) + 1}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`,
      });
      out.push(res.statusCode);
    }
    return out;
  };
  const until = async (check: () => Promise<boolean>, ms: number, what: string): Promise<void> => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`not within ${ms} ms: ${what}`);
  };

  it('with Redis up: ready, counters in Redis, the login limit enforced', async () => {
    expect(await ready()).toEqual({
      status: 200,
      body: expect.objectContaining({ redis: 'up', rate_limits: 'redis' }),
    });
    expect(await fallbackGauge()).toBe(0);
    expect(await loginStatuses(LOGIN_LIMIT + 1)).toEqual([...Array(LOGIN_LIMIT).fill(401), 429]);
  });

  it('with Redis killed: no 500, the limits still hold (per instance), readiness and the metric say so', async () => {
    await redis.stop();
    // registration and login work; the failing Redis never shows
    const name = uniqueName('during');
    const reg = await t.request('POST', '/user', { body: { user_name: name, password: 'correct-horse-1' } });
    expect(reg.statusCode).toBe(201);
    const login = await t.request('POST', '/login', {
      body: { user_name: name, password: 'correct-horse-1' },
    });
    expect(login.statusCode).toBe(200);
    const token = login.json<{ access_token: string }>().access_token;
    expect((await t.request('GET', '/whoami', { token })).statusCode).toBe(200);
    // the login limit holds on this instance's counters
    const statuses = await loginStatuses(LOGIN_LIMIT + 2);
    expect(statuses).toEqual([...Array(LOGIN_LIMIT).fill(401), 429, 429]);
    const r = await ready();
    expect(r.status).toBe(200); // Redis down does not take the instance out of the load balancer
    expect(r.body).toMatchObject({ status: 'ready', redis: 'down', rate_limits: 'memory-fallback' });
    expect(await fallbackGauge()).toBe(1);
    // a burst of mixed requests: nothing 5xx
    const burst = await Promise.all([
      ...Array.from({ length: 10 }, () =>
        t.request('POST', '/login', { body: { user_name: name, password: 'x'.repeat(8) } }),
      ),
      ...Array.from({ length: 10 }, () => t.request('GET', '/exchangeRate')),
      ...Array.from({ length: 5 }, () => t.request('POST', '/stream/ticket', { token })),
    ]);
    expect(burst.filter((x) => x.statusCode >= 500).map((x) => `${x.statusCode} ${x.body}`)).toEqual([]);
  });

  it('with Redis back: the counters return to Redis by themselves, and the limits hold there', async () => {
    await redis.start();
    await until(async () => (await ready()).body.rate_limits === 'redis', 10_000, 'back on Redis');
    expect((await ready()).body).toMatchObject({ redis: 'up' });
    expect(await fallbackGauge()).toBe(0);
    expect(await loginStatuses(LOGIN_LIMIT + 1)).toEqual([...Array(LOGIN_LIMIT).fill(401), 429]);
    // and they are in Redis now
    const client = new Redis(redis.url);
    try {
      expect((await client.keys('throttle:*')).length).toBeGreaterThan(0);
    } finally {
      client.disconnect();
    }
  });
});
