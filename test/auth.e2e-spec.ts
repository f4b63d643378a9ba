import { randomUUID } from 'node:crypto';
import {
  algNoneToken,
  type Claims,
  decodeJwt,
  signClaims,
  storedTokenHash,
  tamperPayload,
  tamperSignature,
} from './factories/tokens';
import { createAdmin, createUser, login, type TestUser, uniqueName } from './factories/users';
import { type RequestOptions, type Res, startTestApp, type TestApp } from './test-app';
import type { AuditLogDto, AuditLogPageDto } from '../src/audit/dto/log-query.dto';

interface ErrorBody {
  error: string;
  code: string;
  statusCode: number;
  details?: { field: string; message: string }[];
}

interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
}

type AuditRow = AuditLogDto;
type LogPage = AuditLogPageDto;

const ISO_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const JSON_EMPTY: RequestOptions = { raw: '', headers: { 'content-type': 'application/json' } };

/* Everything any test received or sent, for the leak checks at the end of the file. */
const bodies: string[] = [];
const passwordsSent = new Set<string>();
const tokensSeen = new Set<string>();

function noteSent(body: unknown): void {
  if (typeof body !== 'object' || body === null) return;
  for (const key of ['password', 'current_password', 'new_password']) {
    const v = (body as Record<string, unknown>)[key];
    // Very short values could match innocent text by accident; real passwords here are >= 7 chars.
    if (typeof v === 'string' && v.length >= 7) passwordsSent.add(v);
  }
}

function noteReceived(body: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return;
  }
  if (typeof parsed !== 'object' || parsed === null) return;
  for (const key of ['access_token', 'refresh_token', 'token']) {
    const v = (parsed as Record<string, unknown>)[key];
    if (typeof v === 'string') tokensSeen.add(v);
  }
}

/** The same test app, but every request and response is recorded (factories go through it too). */
function recording(t: TestApp): TestApp {
  return {
    ...t,
    async request(method: string, url: string, opts: RequestOptions = {}): Promise<Res> {
      if (opts.token) tokensSeen.add(opts.token);
      noteSent(opts.body);
      const res = await t.request(method, url, opts);
      bodies.push(res.body);
      noteReceived(res.body);
      return res;
    },
  };
}

/** Status check that shows the body when it fails. */
function expectStatus(res: Res, status: number): void {
  if (res.statusCode !== status)
    throw new Error(`expected HTTP ${status}, got ${res.statusCode}: ${res.body}`);
  expect(res.statusCode).toBe(status);
}

function expectError(res: Res, status: number, code?: string): ErrorBody {
  expectStatus(res, status);
  const body = res.json<ErrorBody>();
  expect(body).toMatchObject({ error: expect.any(String), code: expect.any(String), statusCode: status });
  expect(body.error.length).toBeGreaterThan(0);
  if (code !== undefined) expect(body.code).toBe(code);
  return body;
}

function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

async function register(t: TestApp, userName: string, password: string, ip?: string): Promise<number> {
  const res = await t.request('POST', '/user', { body: { user_name: userName, password }, ip });
  expectStatus(res, 201);
  return res.json<{ id: number }>().id;
}

async function allLogs(t: TestApp, adminToken: string, query = ''): Promise<AuditRow[]> {
  const rows: AuditRow[] = [];
  for (let offset = 0; ; offset += 200) {
    const res = await t.request('GET', `/admin/logs?limit=200&offset=${offset}${query ? `&${query}` : ''}`, {
      token: adminToken,
    });
    expectStatus(res, 200);
    const page = res.json<LogPage>();
    rows.push(...page.logs);
    if (page.logs.length < 200 || rows.length >= page.total) return rows;
  }
}

function metadataOf(row: AuditRow): Record<string, unknown> {
  return row.metadata_json === null ? {} : (JSON.parse(row.metadata_json) as Record<string, unknown>);
}

describe('accounts and tokens', () => {
  let t: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    t = recording(await startTestApp());
    admin = await createAdmin(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  const whoami = (token: string): Promise<Res> => t.request('GET', '/whoami', { token });
  const refresh = (token: string): Promise<Res> => t.request('POST', '/refresh', { token });

  async function setStatus(userId: number, status: string): Promise<void> {
    const res = await t.request('PUT', `/admin/users/${userId}/status`, {
      token: admin.access,
      body: { status },
    });
    expectStatus(res, 200);
    expect(res.json()).toEqual({ message: expect.any(String), id: userId, status });
  }

  describe('POST /user', () => {
    it('201 answers exactly the public fields of the new user', async () => {
      const userName = uniqueName('reg');
      const before = Date.now();
      const res = await t.request('POST', '/user', {
        body: { user_name: userName, password: 'register-pass-1' },
      });
      expectStatus(res, 201);
      const body = res.json<Record<string, unknown>>();
      expect(body).toEqual({
        id: expect.any(Number),
        user_name: userName,
        role: 'USER',
        status: 'ACTIVE',
        created_at: expect.stringMatching(ISO_Z),
      });
      expect(Number.isInteger(body.id) && (body.id as number) > 0).toBe(true);
      const created = Date.parse(body.created_at as string);
      expect(created).toBeGreaterThanOrEqual(before - 2000);
      expect(created).toBeLessThanOrEqual(Date.now() + 2000);
    });

    it('accepts an optional email and still answers only the public fields', async () => {
      const userName = uniqueName('mail');
      const res = await t.request('POST', '/user', {
        body: { user_name: userName, password: 'register-pass-1', email: 'someone@example.com' },
      });
      expectStatus(res, 201);
      expect(Object.keys(res.json<object>()).sort()).toEqual([
        'created_at',
        'id',
        'role',
        'status',
        'user_name',
      ]);
    });

    it('a taken name is 409 USER_NAME_TAKEN, also in another letter case', async () => {
      const userName = `Alice_${randomUUID().slice(0, 8)}`;
      await register(t, userName, 'register-pass-1');
      expectError(
        await t.request('POST', '/user', { body: { user_name: userName, password: 'register-pass-2' } }),
        409,
        'USER_NAME_TAKEN',
      );
      expectError(
        await t.request('POST', '/user', {
          body: { user_name: userName.toLowerCase(), password: 'register-pass-2' },
        }),
        409,
        'USER_NAME_TAKEN',
      );
      expectError(
        await t.request('POST', '/user', {
          body: { user_name: userName.toUpperCase(), password: 'register-pass-2' },
        }),
        409,
        'USER_NAME_TAKEN',
      );
    });

    it.each([
      ['a too short user_name', { user_name: 'ab', password: 'register-pass-1' }, 'user_name'],
      ['a too long user_name', { user_name: 'a'.repeat(31), password: 'register-pass-1' }, 'user_name'],
      [
        'a user_name with a space and !',
        { user_name: 'bad name!', password: 'register-pass-1' },
        'user_name',
      ],
      ['a user_name with a slash', { user_name: 'bad/name', password: 'register-pass-1' }, 'user_name'],
      ['a 7-character password', { user_name: 'shortpwuser', password: 'pw12345' }, 'password'],
      ['a missing password', { user_name: 'nopassuser' }, 'password'],
      ['a non-string user_name', { user_name: 12345, password: 'register-pass-1' }, 'user_name'],
    ])('%s is 400 VALIDATION_FAILED naming the field', async (_label, body, field) => {
      const res = await t.request('POST', '/user', { body });
      const err = expectError(res, 400, 'VALIDATION_FAILED');
      expect(err.details).toEqual(expect.arrayContaining([{ field, message: expect.any(String) }]));
      for (const d of err.details ?? [])
        expect(d).toEqual({ field: expect.any(String), message: expect.any(String) });
    });

    it.each([
      ['role', 'ADMIN'],
      ['status', 'ACTIVE'],
      ['usd_balance', 1000000],
    ])('a body that sets %s is refused (400) and creates nobody', async (field, value) => {
      const userName = uniqueName('mass');
      const res = await t.request('POST', '/user', {
        body: { user_name: userName, password: 'register-pass-1', [field]: value },
      });
      const err = expectError(res, 400, 'VALIDATION_FAILED');
      expect(err.details?.map((d) => d.field)).toContain(field);
      expect(err.details?.find((d) => d.field === field)?.message).toContain(field);
      // Nothing was created: the name is still free and the account it gets is an ordinary user.
      const again = await t.request('POST', '/user', {
        body: { user_name: userName, password: 'register-pass-1' },
      });
      expectStatus(again, 201);
      expect(again.json()).toMatchObject({ role: 'USER', status: 'ACTIVE' });
    });
  });

  describe('POST /login', () => {
    it('200 answers a fresh token pair', async () => {
      const userName = uniqueName('login');
      const id = await register(t, userName, 'login-pass-123');
      const res = await t.request('POST', '/login', {
        body: { user_name: userName, password: 'login-pass-123' },
      });
      expectStatus(res, 200);
      const pair = res.json<TokenPair>();
      expect(pair).toEqual({
        access_token: expect.any(String),
        refresh_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 900,
      });
      const access = decodeJwt(pair.access_token);
      const refreshed = decodeJwt(pair.refresh_token);
      expect(access.header.alg).toBe('HS256');
      expect(access.payload).toMatchObject({ sub: id, typ: 'access', fresh: true });
      expect((access.payload.exp ?? 0) - (access.payload.iat ?? 0)).toBe(900);
      expect(refreshed.payload).toMatchObject({ sub: id, typ: 'refresh', sid: access.payload.sid });
      expect(pair.access_token).not.toBe(pair.refresh_token);
      expectStatus(await whoami(pair.access_token), 200);
    });

    it('login is case-insensitive on the user name', async () => {
      const userName = `Bob_${randomUUID().slice(0, 8)}`;
      await register(t, userName, 'login-pass-123');
      const res = await t.request('POST', '/login', {
        body: { user_name: userName.toLowerCase(), password: 'login-pass-123' },
      });
      expectStatus(res, 200);
      expect((await whoami(res.json<TokenPair>().access_token)).json()).toMatchObject({
        user_name: userName,
      });
    });

    it('a wrong password and an unknown user get the same 401 INVALID_CREDENTIALS', async () => {
      const userName = uniqueName('wrongpw');
      await register(t, userName, 'login-pass-123');
      const wrong = await t.request('POST', '/login', {
        body: { user_name: userName, password: 'not-the-password' },
      });
      const unknown = await t.request('POST', '/login', {
        body: { user_name: uniqueName('nobody'), password: 'not-the-password' },
      });
      const a = expectError(wrong, 401, 'INVALID_CREDENTIALS');
      const b = expectError(unknown, 401, 'INVALID_CREDENTIALS');
      expect(a).toEqual(b);
      expect(wrong.body).toBe(unknown.body);
    });

    it('a suspended user gets 403 ACCOUNT_INACTIVE (a wrong password still gets 401)', async () => {
      const user = await createUser(t, 'susplogin', 'login-pass-123');
      await setStatus(user.id, 'SUSPENDED');
      expectError(
        await t.request('POST', '/login', { body: { user_name: user.userName, password: 'login-pass-123' } }),
        403,
        'ACCOUNT_INACTIVE',
      );
      // Without the password nobody learns the account's status.
      expectError(
        await t.request('POST', '/login', {
          body: { user_name: user.userName, password: 'not-the-password' },
        }),
        401,
        'INVALID_CREDENTIALS',
      );
    });
  });

  describe('POST /authentication (older clients)', () => {
    it('answers {token}, an access token that works on /whoami', async () => {
      const userName = uniqueName('legacy');
      const id = await register(t, userName, 'legacy-pass-1');
      const res = await t.request('POST', '/authentication', {
        body: { user_name: userName, password: 'legacy-pass-1' },
      });
      expectStatus(res, 200);
      const body = res.json<{ token: string }>();
      expect(body).toEqual({ token: expect.any(String) });
      const who = await whoami(body.token);
      expectStatus(who, 200);
      expect(who.json()).toMatchObject({ id, user_name: userName });
    });

    it('refuses a wrong password with 401 INVALID_CREDENTIALS', async () => {
      const userName = uniqueName('legacy');
      await register(t, userName, 'legacy-pass-1');
      expectError(
        await t.request('POST', '/authentication', {
          body: { user_name: userName, password: 'not-the-password' },
        }),
        401,
        'INVALID_CREDENTIALS',
      );
    });
  });

  describe('GET /whoami', () => {
    it('answers the caller with user_id = id', async () => {
      const userName = uniqueName('who');
      const reg = await t.request('POST', '/user', {
        body: { user_name: userName, password: 'whoami-pass-1' },
      });
      const created = reg.json<{ id: number; created_at: string }>();
      const { access } = await login(t, userName, 'whoami-pass-1');
      const res = await whoami(access);
      expectStatus(res, 200);
      const body = res.json<Record<string, unknown>>();
      expect(body).toMatchObject({
        id: created.id,
        user_id: created.id,
        user_name: userName,
        role: 'USER',
        status: 'ACTIVE',
        created_at: created.created_at,
      });
      expect(body.created_at).toMatch(ISO_Z);
    });

    it('no token is 401', async () => {
      expectError(await t.request('GET', '/whoami'), 401, 'UNAUTHORIZED');
    });

    it('a garbage token is 401 INVALID_TOKEN', async () => {
      expectError(await whoami('not-a-jwt'), 401, 'INVALID_TOKEN');
      expectError(await whoami('aaaa.bbbb.cccc'), 401, 'INVALID_TOKEN');
    });

    it('a token in another scheme than Bearer is 401', async () => {
      const user = await createUser(t, 'scheme');
      expectError(
        await t.request('GET', '/whoami', { headers: { authorization: `Basic ${user.access}` } }),
        401,
      );
    });
  });

  describe('token attacks', () => {
    let victim: TestUser;
    let other: TestUser;
    let claims: Claims;

    beforeAll(async () => {
      victim = await createUser(t, 'victim');
      other = await createUser(t, 'other');
      claims = decodeJwt(victim.access).payload;
    });

    it('control: a token we sign with the app secret and the real claims shape is accepted', async () => {
      const token = signClaims(t.config.auth.jwtSecret, {
        ...claims,
        jti: randomUUID(),
        iat: nowSec(),
        exp: nowSec() + 600,
      });
      const res = await whoami(token);
      expectStatus(res, 200);
      expect(res.json()).toMatchObject({ id: victim.id });
    });

    it('alg none with the same claims is 401', async () => {
      const token = algNoneToken(victim.access);
      expect(decodeJwt(token).payload).toEqual(claims);
      expectError(await whoami(token), 401, 'INVALID_TOKEN');
      // Also with the original signature left in place.
      const [h, p] = token.split('.');
      expectError(await whoami(`${h}.${p}.${victim.access.split('.')[2]}`), 401, 'INVALID_TOKEN');
    });

    it('a tampered signature is 401', async () => {
      expectError(await whoami(tamperSignature(victim.access)), 401, 'INVALID_TOKEN');
    });

    it("a payload changed to another user's id under the original signature is 401", async () => {
      expectError(await whoami(tamperPayload(victim.access, { sub: other.id })), 401, 'INVALID_TOKEN');
    });

    it('a token signed with another secret is 401', async () => {
      const token = signClaims('another-secret-that-is-long-enough-9876543210', {
        ...claims,
        iat: nowSec(),
        exp: nowSec() + 600,
      });
      expectError(await whoami(token), 401, 'INVALID_TOKEN');
    });

    it('HS512 with the right secret is 401 (the algorithm is pinned)', async () => {
      const token = signClaims(
        t.config.auth.jwtSecret,
        { ...claims, iat: nowSec(), exp: nowSec() + 600 },
        'HS512',
      );
      expectError(await whoami(token), 401, 'INVALID_TOKEN');
    });

    it('a validly signed token whose session belongs to someone else is 401', async () => {
      const token = signClaims(t.config.auth.jwtSecret, {
        ...claims,
        sub: other.id,
        iat: nowSec(),
        exp: nowSec() + 600,
      });
      expectError(await whoami(token), 401);
    });

    it('an expired token is 401 TOKEN_EXPIRED', async () => {
      const token = signClaims(t.config.auth.jwtSecret, {
        ...claims,
        jti: randomUUID(),
        fresh_exp: nowSec() - 3300,
        iat: nowSec() - 3600,
        exp: nowSec() - 60,
      });
      expectError(await whoami(token), 401, 'TOKEN_EXPIRED');
    });

    it('a refresh token used as an access token is 401', async () => {
      const res = await whoami(victim.refresh);
      expectError(res, 401);
      expect(['WRONG_TOKEN_TYPE', 'INVALID_TOKEN']).toContain(res.json<ErrorBody>().code);
      expectError(
        await t.request('PUT', '/user/password', {
          token: victim.refresh,
          body: { current_password: victim.password, new_password: 'never-set-this-1' },
        }),
        401,
      );
    });

    it('an access token used on /refresh or /logout_refresh is 401', async () => {
      expectError(await refresh(victim.access), 401);
      expectError(await t.request('POST', '/logout_refresh', { token: victim.access }), 401);
      // Neither call ended the session.
      expectStatus(await whoami(victim.access), 200);
    });
  });

  describe('POST /refresh (rotation)', () => {
    it('answers a new pair; its access token works but is not fresh', async () => {
      const user = await createUser(t, 'rot');
      const res = await refresh(user.refresh);
      expectStatus(res, 200);
      const pair = res.json<TokenPair>();
      expect(pair).toMatchObject({ access_token: expect.any(String), refresh_token: expect.any(String) });
      expect(pair.access_token).not.toBe(user.access);
      expect(pair.refresh_token).not.toBe(user.refresh);
      const a = decodeJwt(pair.access_token).payload;
      expect(a).toMatchObject({ typ: 'access', sub: user.id, sid: decodeJwt(user.access).payload.sid });
      expect(a.fresh === true && (a.fresh_exp ?? 0) > nowSec()).toBe(false);
      const who = await whoami(pair.access_token);
      expectStatus(who, 200);
      expect(who.json()).toMatchObject({ id: user.id });
      expectError(
        await t.request('PUT', '/user/password', {
          token: pair.access_token,
          body: { current_password: user.password, new_password: 'another-pass-12' },
        }),
        403,
        'FRESH_TOKEN_REQUIRED',
      );
      // The new refresh token rotates too.
      expectStatus(await refresh(pair.refresh_token), 200);
    });

    it('an older client keeping its first refresh token can refresh repeatedly while no child was used', async () => {
      const user = await createUser(t, 'oldclient');
      const issued: TokenPair[] = [];
      for (let i = 0; i < 3; i += 1) {
        const res = await refresh(user.refresh);
        expectStatus(res, 200);
        issued.push(res.json<TokenPair>());
      }
      expect(new Set(issued.map((p) => p.refresh_token)).size).toBe(3);
      for (const p of issued) expectStatus(await whoami(p.access_token), 200);
      expectStatus(await whoami(user.access), 200);
    });

    let reusedUserId = 0;

    it('once a child was used, presenting the parent again is 401 TOKEN_REUSED and kills the whole family', async () => {
      const user = await createUser(t, 'reuse');
      reusedUserId = user.id;
      const second = await login(t, user.userName, user.password); // another session, must survive
      const r2res = await refresh(user.refresh); // R1 -> R2
      expectStatus(r2res, 200);
      const p2 = r2res.json<TokenPair>();
      const r3res = await refresh(p2.refresh_token); // R2 used: R1 is now spent
      expectStatus(r3res, 200);
      const p3 = r3res.json<TokenPair>();

      expectError(await refresh(user.refresh), 401, 'TOKEN_REUSED');

      // R2's descendants and every access token of that session are dead.
      expectError(await refresh(p3.refresh_token), 401);
      expectError(await refresh(p2.refresh_token), 401);
      expectError(await whoami(p3.access_token), 401);
      expectError(await whoami(p2.access_token), 401);
      expectError(await whoami(user.access), 401);
      // Presenting R1 yet again stays refused.
      expectError(await refresh(user.refresh), 401);
      // The user's other session is not part of that family.
      expectStatus(await whoami(second.access), 200);
      expectStatus(await refresh(second.refresh), 200);
    });

    it('the reuse is visible in GET /admin/logs?event_type=TOKEN_REUSE_DETECTED', async () => {
      expect(reusedUserId).toBeGreaterThan(0);
      const res = await t.request(
        'GET',
        `/admin/logs?event_type=TOKEN_REUSE_DETECTED&target_user_id=${reusedUserId}`,
        {
          token: admin.access,
        },
      );
      expectStatus(res, 200);
      const page = res.json<LogPage>();
      expect(page.total).toBeGreaterThanOrEqual(1);
      expect(page.logs[0]).toMatchObject({
        event_type: 'TOKEN_REUSE_DETECTED',
        success: false,
        status_code: 401,
        target_user_id: reusedUserId,
        actor_user_id: reusedUserId,
        path: '/refresh',
        created_at: expect.stringMatching(ISO_Z),
      });
    });

    it('accepts an empty body with Content-Type: application/json', async () => {
      const user = await createUser(t, 'rotjson');
      const res = await t.request('POST', '/refresh', { token: user.refresh, ...JSON_EMPTY });
      expectStatus(res, 200);
      expect(res.json()).toMatchObject({
        access_token: expect.any(String),
        refresh_token: expect.any(String),
      });
    });
  });

  describe('logout', () => {
    it('POST /logout (empty JSON body) ends that session only', async () => {
      const user = await createUser(t, 'logout');
      const other = await login(t, user.userName, user.password);
      const res = await t.request('POST', '/logout', { token: user.access, ...JSON_EMPTY });
      expectStatus(res, 200);
      expect(res.json()).toEqual({ message: expect.any(String) });
      expectError(await whoami(user.access), 401);
      expectError(await refresh(user.refresh), 401);
      expectError(await t.request('POST', '/logout', { token: user.access }), 401);
      expectStatus(await whoami(other.access), 200);
      expectStatus(await refresh(other.refresh), 200);
    });

    it('POST /logout also kills tokens issued by /refresh in that session', async () => {
      const user = await createUser(t, 'logout2');
      const p = (await refresh(user.refresh)).json<TokenPair>();
      expectStatus(await t.request('POST', '/logout', { token: user.access }), 200);
      expectError(await whoami(p.access_token), 401);
      expectError(await refresh(p.refresh_token), 401);
    });

    it('POST /logout_refresh (empty JSON body) with the refresh token ends the session', async () => {
      const user = await createUser(t, 'logoutr');
      const other = await login(t, user.userName, user.password);
      const res = await t.request('POST', '/logout_refresh', { token: user.refresh, ...JSON_EMPTY });
      expectStatus(res, 200);
      expect(res.json()).toEqual({ message: expect.any(String) });
      expectError(await refresh(user.refresh), 401);
      expectError(await whoami(user.access), 401);
      expectStatus(await whoami(other.access), 200);
    });
  });

  describe('POST /auth/fresh (step-up)', () => {
    it('a token from /refresh is not fresh: fresh-only routes answer 403 FRESH_TOKEN_REQUIRED', async () => {
      const user = await createUser(t, 'stale');
      const stale = (await refresh(user.refresh)).json<TokenPair>().access_token;
      expectError(
        await t.request('PUT', '/user/password', {
          token: stale,
          body: { current_password: user.password, new_password: 'another-pass-12' },
        }),
        403,
        'FRESH_TOKEN_REQUIRED',
      );
      const staleAdmin = (await refresh(admin.refresh)).json<TokenPair>().access_token;
      expectError(
        await t.request('PUT', `/admin/users/${user.id}/status`, {
          token: staleAdmin,
          body: { status: 'SUSPENDED' },
        }),
        403,
        'FRESH_TOKEN_REQUIRED',
      );
      expect((await whoami(user.access)).statusCode).toBe(200); // not suspended
    });

    it('a token whose fresh window is over is not fresh', async () => {
      const user = await createUser(t, 'window');
      const c = decodeJwt(user.access).payload;
      const token = signClaims(t.config.auth.jwtSecret, {
        ...c,
        jti: randomUUID(),
        fresh: true,
        fresh_exp: nowSec() - 1,
        iat: nowSec() - 400,
        exp: nowSec() + 500,
      });
      expectStatus(await whoami(token), 200);
      expectError(
        await t.request('PUT', '/user/password', {
          token,
          body: { current_password: user.password, new_password: 'another-pass-12' },
        }),
        403,
        'FRESH_TOKEN_REQUIRED',
      );
    });

    it('a wrong password is 401', async () => {
      const user = await createUser(t, 'freshno');
      const stale = (await refresh(user.refresh)).json<TokenPair>().access_token;
      expectError(
        await t.request('POST', '/auth/fresh', { token: stale, body: { password: 'not-the-password' } }),
        401,
        'INVALID_CREDENTIALS',
      );
      // A failed step-up does not end the session.
      expectStatus(await whoami(stale), 200);
    });

    it('the right password gives a fresh {access_token} in the same session that passes fresh-only routes', async () => {
      const user = await createUser(t, 'freshok');
      const stale = (await refresh(user.refresh)).json<TokenPair>().access_token;
      const res = await t.request('POST', '/auth/fresh', { token: stale, body: { password: user.password } });
      expectStatus(res, 200);
      const fresh = res.json<{ access_token: string }>().access_token;
      expect(res.json()).toMatchObject({ access_token: expect.any(String) });
      const c = decodeJwt(fresh).payload;
      expect(c).toMatchObject({
        typ: 'access',
        sub: user.id,
        sid: decodeJwt(stale).payload.sid,
        fresh: true,
      });
      const changed = await t.request('PUT', '/user/password', {
        token: fresh,
        body: { current_password: user.password, new_password: 'stepped-up-pass-1' },
      });
      expectStatus(changed, 200);

      // The same for an admin on an admin fresh-only route.
      const staleAdmin = (await refresh(admin.refresh)).json<TokenPair>().access_token;
      const up = await t.request('POST', '/auth/fresh', {
        token: staleAdmin,
        body: { password: admin.password },
      });
      expectStatus(up, 200);
      const target = await createUser(t, 'target');
      const set = await t.request('PUT', `/admin/users/${target.id}/status`, {
        token: up.json<{ access_token: string }>().access_token,
        body: { status: 'ACTIVE' },
      });
      expectStatus(set, 200);
    });

    it('a refresh token cannot step up', async () => {
      const user = await createUser(t, 'freshref');
      expectError(
        await t.request('POST', '/auth/fresh', { token: user.refresh, body: { password: user.password } }),
        401,
      );
    });
  });

  describe('PUT /user/password', () => {
    it('a wrong current password is 401', async () => {
      const user = await createUser(t, 'pwwrong');
      expectError(
        await t.request('PUT', '/user/password', {
          token: user.access,
          body: { current_password: 'not-the-password', new_password: 'brand-new-pass-1' },
        }),
        401,
      );
      await login(t, user.userName, user.password); // unchanged
    });

    it('a new password equal to the current one is 400', async () => {
      const user = await createUser(t, 'pwsame');
      const err = expectError(
        await t.request('PUT', '/user/password', {
          token: user.access,
          body: { current_password: user.password, new_password: user.password },
        }),
        400,
        'VALIDATION_FAILED',
      );
      expect(err.details?.map((d) => d.field)).toContain('new_password');
    });

    it('a new password under 8 characters is 400', async () => {
      const user = await createUser(t, 'pwshort');
      const err = expectError(
        await t.request('PUT', '/user/password', {
          token: user.access,
          body: { current_password: user.password, new_password: 'pw12345' },
        }),
        400,
        'VALIDATION_FAILED',
      );
      expect(err.details?.map((d) => d.field)).toContain('new_password');
    });

    it('success: 200, only the new password logs in, other sessions end, this one stays', async () => {
      const user = await createUser(t, 'pwchange', 'old-password-1');
      const second = await login(t, user.userName, 'old-password-1');
      const legacy = (
        await t.request('POST', '/authentication', {
          body: { user_name: user.userName, password: 'old-password-1' },
        })
      ).json<{ token: string }>().token;

      const res = await t.request('PUT', '/user/password', {
        token: user.access,
        body: { current_password: 'old-password-1', new_password: 'new-password-2' },
      });
      expectStatus(res, 200);
      expect(res.json()).toEqual({ message: expect.any(String) });

      expectError(
        await t.request('POST', '/login', { body: { user_name: user.userName, password: 'old-password-1' } }),
        401,
        'INVALID_CREDENTIALS',
      );
      await login(t, user.userName, 'new-password-2');

      expectError(await whoami(second.access), 401);
      expectError(await refresh(second.refresh), 401);
      expectError(await whoami(legacy), 401);

      expectStatus(await whoami(user.access), 200);
      expectStatus(await refresh(user.refresh), 200);
    });
  });

  describe('suspension', () => {
    it.each(['SUSPENDED', 'BANNED'])(
      "a %s user's still-valid token gets 403 ACCOUNT_INACTIVE on the next request",
      async (status) => {
        const u = await createUser(t, 'inactive');
        expectStatus(await whoami(u.access), 200);
        await setStatus(u.id, status);
        expectError(await whoami(u.access), 403, 'ACCOUNT_INACTIVE');
        const r = await refresh(u.refresh);
        expect([401, 403]).toContain(r.statusCode);
        expect(['ACCOUNT_INACTIVE', 'TOKEN_REVOKED']).toContain(r.json<ErrorBody>().code);
      },
    );

    it('after reactivation the old tokens stay revoked (401) and a new login works', async () => {
      const user = await createUser(t, 'reactivate');
      const legacy = (
        await t.request('POST', '/authentication', {
          body: { user_name: user.userName, password: user.password },
        })
      ).json<{ token: string }>().token;
      await setStatus(user.id, 'SUSPENDED');
      await setStatus(user.id, 'ACTIVE');
      expectError(await whoami(user.access), 401);
      expectError(await whoami(legacy), 401);
      expectError(await refresh(user.refresh), 401);
      const fresh = await login(t, user.userName, user.password);
      const who = await whoami(fresh.access);
      expectStatus(who, 200);
      expect(who.json()).toMatchObject({ id: user.id, status: 'ACTIVE' });
    });

    it('an admin cannot change their own status', async () => {
      expectError(
        await t.request('PUT', `/admin/users/${admin.id}/status`, {
          token: admin.access,
          body: { status: 'SUSPENDED' },
        }),
        403,
      );
      expectStatus(await whoami(admin.access), 200);
    });
  });

  describe('audit trail', () => {
    it('LOGIN_FAILURE rows have success=false and the reason in metadata_json', async () => {
      const rows = await allLogs(t, admin.access, 'event_type=LOGIN_FAILURE');
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) {
        expect(row).toMatchObject({ event_type: 'LOGIN_FAILURE', success: false });
        expect(metadataOf(row).reason).toEqual(expect.any(String));
      }
      const reasons = rows.map((r) => metadataOf(r).reason);
      expect(reasons).toEqual(
        expect.arrayContaining(['WRONG_PASSWORD', 'UNKNOWN_USER', 'ACCOUNT_SUSPENDED']),
      );
      const wrong = rows.find((r) => metadataOf(r).reason === 'WRONG_PASSWORD');
      expect(wrong).toMatchObject({ status_code: 401, http_method: 'POST', ip_address: '127.0.0.1' });
      expect(rows.find((r) => metadataOf(r).reason === 'ACCOUNT_SUSPENDED')).toMatchObject({
        status_code: 403,
      });
    });

    it.each(['LOGIN_SUCCESS', 'USER_REGISTER', 'LOGOUT', 'TOKEN_REFRESH', 'PASSWORD_CHANGE', 'FRESH_LOGIN'])(
      'successful %s rows exist',
      async (event) => {
        const res = await t.request('GET', `/admin/logs?event_type=${event}&success=true&limit=5`, {
          token: admin.access,
        });
        expectStatus(res, 200);
        const page = res.json<LogPage>();
        expect(page.total).toBeGreaterThan(0);
        expect(page.limit).toBe(5);
        expect(page.logs.length).toBeGreaterThan(0);
        for (const row of page.logs) {
          expect(row).toMatchObject({
            event_type: event,
            success: true,
            created_at: expect.stringMatching(ISO_Z),
          });
          expect(row.actor_user_id).toEqual(expect.any(Number));
        }
      },
    );

    it('no audit row holds a password or a token that was sent or issued', async () => {
      const rows = await allLogs(t, admin.access);
      expect(rows.length).toBeGreaterThan(50);
      expect(passwordsSent.size).toBeGreaterThan(5);
      expect(tokensSeen.size).toBeGreaterThan(20);
      const secrets = [...passwordsSent, ...tokensSeen];
      const leaks = rows.flatMap((row) => {
        const text = JSON.stringify(row);
        const found = secrets.filter((s) => text.includes(s));
        if (/\$2[aby]\$/.test(text)) found.push('bcrypt hash');
        return found.length > 0 ? [{ row: row.id, event: row.event_type, found }] : [];
      });
      expect(leaks).toEqual([]);
    });
  });
});

describe('brute-force limits (LOGIN_RATE_LIMIT=5)', () => {
  let t2: TestApp;
  let admin2: TestUser;

  beforeAll(async () => {
    t2 = recording(await startTestApp({ LOGIN_RATE_LIMIT: '5' }));
    admin2 = await createAdmin(t2); // one login from 127.0.0.1; the tests below use other addresses
  });
  afterAll(async () => {
    await t2?.close();
  });

  const attempt = (userName: string, password: string, ip: string): Promise<Res> =>
    t2.request('POST', '/login', { body: { user_name: userName, password }, ip });

  function expectRateLimited(res: Res): void {
    expectError(res, 429, 'RATE_LIMITED');
    const retry = res.headers['retry-after'];
    expect(String(retry)).toMatch(/^[1-9]\d*$/);
  }

  it('the 6th wrong password for one name within the minute is 429 with Retry-After, and is audited', async () => {
    const userName = uniqueName('brute');
    await register(t2, userName, 'brute-pass-123', '10.9.9.1');
    for (let i = 0; i < 5; i += 1) expectError(await attempt(userName, `guess-number-${i}`, '10.0.0.1'), 401);
    expectRateLimited(await attempt(userName, 'guess-number-5', '10.0.0.1'));
    // The right password does not get through either while blocked.
    expectRateLimited(await attempt(userName, 'brute-pass-123', '10.0.0.1'));

    const res = await t2.request('GET', '/admin/logs?event_type=RATE_LIMIT_HIT', { token: admin2.access });
    expectStatus(res, 200);
    const rows = res.json<LogPage>().logs;
    const hit = rows.find((r) => r.ip_address === '10.0.0.1');
    expect(hit).toMatchObject({
      event_type: 'RATE_LIMIT_HIT',
      success: false,
      status_code: 429,
      path: '/login',
    });
    expect(metadataOf(hit as AuditRow)).toMatchObject({ group: 'login' });
  });

  it('counts per user name across different IPs', async () => {
    const userName = uniqueName('spread');
    await register(t2, userName, 'brute-pass-123', '10.9.9.2');
    // Letter case does not make a new name: the same account is counted.
    const spelled = (i: number): string => (i % 2 === 0 ? userName.toUpperCase() : userName.toLowerCase());
    for (let i = 1; i <= 5; i += 1)
      expectError(await attempt(spelled(i), 'wrong-guess-1', `10.0.1.${i}`), 401);
    expectRateLimited(await attempt(spelled(6), 'wrong-guess-1', '10.0.1.6'));
    // Those addresses are not blocked for other names.
    expectError(await attempt(uniqueName('someone'), 'wrong-guess-1', '10.0.1.1'), 401);
  });

  it('counts per IP across different user names', async () => {
    for (let i = 0; i < 5; i += 1)
      expectError(await attempt(uniqueName('spray'), 'wrong-guess-1', '10.0.2.1'), 401);
    const sixth = uniqueName('spray');
    expectRateLimited(await attempt(sixth, 'wrong-guess-1', '10.0.2.1'));
    // The same name from another address is still answered normally.
    expectError(await attempt(sixth, 'wrong-guess-1', '10.0.2.2'), 401);
  });
});

describe('responses never carry secrets', () => {
  it('no response body contains a bcrypt hash, a stored refresh-token hash or a hash field', () => {
    expect(bodies.length).toBeGreaterThan(100);
    expect(bodies.some((b) => b.includes('refresh_token'))).toBe(true);
    const storedHashes = [...tokensSeen].map(storedTokenHash);
    expect(storedHashes.length).toBeGreaterThan(20);
    const leaks = bodies.filter(
      (body) =>
        /\$2[aby]\$/.test(body) ||
        /password_hash|token_hash|passwordHash|tokenHash/.test(body) ||
        storedHashes.some((h) => body.includes(h)),
    );
    expect(leaks).toEqual([]);
  });
});
