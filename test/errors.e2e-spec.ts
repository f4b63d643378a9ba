import { DataSource } from 'typeorm';
import { UsersService } from '../src/users/users.service';
import { createUser } from './factories/users';
import { startTestApp, type TestApp } from './test-app';

describe('errors never leak internals', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  afterEach(() => jest.restoreAllMocks());

  it('an unexpected failure is a generic 500: no stack, no SQL, no driver text', async () => {
    const u = await createUser(t);
    const boom = new Error("ER_BAD_FIELD_ERROR: Unknown column 'x' in 'SELECT * FROM users'");
    jest.spyOn(t.app.get(UsersService), 'getPreferences').mockRejectedValue(boom);
    const res = await t.request('GET', '/preferences', { token: u.access });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({
      error: 'Something went wrong on our side. Please try again later.',
      code: 'INTERNAL_ERROR',
      statusCode: 500,
    });
    expect(res.body).not.toMatch(/SELECT|ER_|at .*\.ts|stack/i);
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
  });

  it('a database unique violation that escapes a service becomes 409, not 500', async () => {
    const u = await createUser(t);
    const dup = Object.assign(new Error('UNIQUE constraint failed: users.user_name_key'), {
      code: t.db === 'mysql' ? 'ER_DUP_ENTRY' : 'SQLITE_CONSTRAINT_UNIQUE',
    });
    jest.spyOn(t.app.get(UsersService), 'getPreferences').mockRejectedValue(dup);
    const res = await t.request('GET', '/preferences', { token: u.access });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ error: 'This already exists.', code: 'CONFLICT', statusCode: 409 });
  });

  it('GET /health answers 503 DB_DOWN when the database does not answer', async () => {
    jest.spyOn(t.app.get(DataSource), 'query').mockRejectedValue(new Error('connect ECONNREFUSED'));
    const res = await t.request('GET', '/health');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ error: 'The database is not reachable.', code: 'DB_DOWN', statusCode: 503 });
  });
});
