import { redisUp } from './support/redis';
import { uniqueName } from './factories/users';
import { startTestApp, type TestApp } from './test-app';

/**
 * With REDIS_URL set, throttler counters live in Redis, so a limit holds across instances.
 * Runs when Redis answers at REDIS_URL_TEST (default redis://127.0.0.1:6379); CI requires it.
 */
const url = process.env.REDIS_URL_TEST ?? 'redis://127.0.0.1:6379';

describe('rate limits shared through Redis', () => {
  let a: TestApp | undefined;
  let b: TestApp | undefined;
  let up = false;

  beforeAll(async () => {
    up = await redisUp(url);
    if (!up && process.env.REQUIRE_REDIS === 'true')
      throw new Error(`Redis is required but not reachable at ${url}`);
    if (!up) return;
    const env = { REDIS_URL: url, LOGIN_RATE_LIMIT: '5' };
    a = await startTestApp(env);
    b = await startTestApp(env);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('the login limit per user name holds across two instances', async () => {
    if (!up || !a || !b) {
      console.warn(`Redis not reachable at ${url}: skipped`);
      return;
    }
    const name = uniqueName('victim');
    // A fresh loopback address per attempt, so only the per-name counter can trip.
    const ip = () =>
      `127.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const app = i % 2 === 0 ? a : b;
      const res = await app.request('POST', '/login', {
        body: { user_name: name, password: 'wrong-password' },
        ip: ip(),
      });
      statuses.push(res.statusCode);
      if (res.statusCode === 429) {
        expect(res.json().code).toBe('RATE_LIMITED');
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      }
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses[5]).toBe(429);
  });
});
