import { AdminBootstrapService } from '../../src/auth/admin-bootstrap.service';
import type { TestApp } from '../test-app';

let seq = 0;

export interface TestUser {
  id: number;
  userName: string;
  password: string;
  access: string;
  refresh: string;
}

export function uniqueName(prefix = 'user'): string {
  seq += 1;
  return `${prefix}${seq}_${Math.random().toString(36).slice(2, 8)}`.slice(0, 30);
}

export async function login(
  t: TestApp,
  userName: string,
  password: string,
): Promise<{ access: string; refresh: string }> {
  const res = await t.request('POST', '/login', { body: { user_name: userName, password } });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  const b = res.json<{ access_token: string; refresh_token: string }>();
  return { access: b.access_token, refresh: b.refresh_token };
}

/** Registers through POST /user and logs in. */
export async function createUser(
  t: TestApp,
  prefix = 'user',
  password = 'correct-horse-1',
): Promise<TestUser> {
  const userName = uniqueName(prefix);
  const res = await t.request('POST', '/user', { body: { user_name: userName, password } });
  if (res.statusCode !== 201) throw new Error(`register failed: ${res.statusCode} ${res.body}`);
  const id = res.json<{ id: number }>().id;
  return { id, userName, password, ...(await login(t, userName, password)) };
}

/** Creates an admin the way `npm run admin:create` does, then logs in (fresh token). */
export async function createAdmin(t: TestApp, password = 'admin-password-1'): Promise<TestUser> {
  const userName = uniqueName('admin');
  await t.app.get(AdminBootstrapService).createOrPromote(userName, password, 'test');
  const tokens = await login(t, userName, password);
  const who = await t.request('GET', '/whoami', { token: tokens.access });
  return { id: who.json<{ id: number }>().id, userName, password, ...tokens };
}

/** Funds `user` the way the API does: POST /wallet/deposits, then an admin confirms it. */
export async function confirmedDeposit(
  t: TestApp,
  admin: TestUser,
  user: TestUser,
  currency: 'USD' | 'LBP',
  amount: number,
): Promise<void> {
  const d = await t.request('POST', '/wallet/deposits', { token: user.access, body: { currency, amount } });
  if (d.statusCode !== 201) throw new Error(`deposit failed: ${d.statusCode} ${d.body}`);
  const c = await t.request('POST', `/admin/deposits/${d.json<{ id: number }>().id}/confirm`, {
    token: admin.access,
  });
  if (c.statusCode !== 200) throw new Error(`confirm failed: ${c.statusCode} ${c.body}`);
}
