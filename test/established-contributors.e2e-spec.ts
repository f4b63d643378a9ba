import { DataSource } from 'typeorm';
import { Clock } from '../src/common/clock';
import { UserEntity } from '../src/users/user.entity';
import { createAdmin, createUser, type TestUser } from './factories/users';
import { type Res, startTestApp, type TestApp } from './test-app';

/**
 * Issue 22: only established accounts move the reference rate. An account is established when an
 * admin trusts it, or when its confirmed deposits reach RATE_CONTRIBUTOR_MIN_DEPOSIT_USD and it is
 * RATE_CONTRIBUTOR_MIN_AGE_HOURS old; only samples made while it is established count, and a
 * suspension, a ban or a withdrawn trust drops them at once. Everyone else still records.
 * These run at the production defaults (50 USD, 24 hours), not the open crowd of the other tests.
 */

jest.setTimeout(240_000);

const PRODUCTION = {
  RATE_CONTRIBUTOR_MIN_DEPOSIT_USD: '50',
  RATE_CONTRIBUTOR_MIN_AGE_HOURS: '24',
  TRANSACTION_RATE_LIMIT: '1000000',
  OFFER_RATE_LIMIT: '1000000',
  FUNDING_RATE_LIMIT: '1000000',
  QUOTE_RATE_LIMIT: '1000000',
  FRESH_TOKEN_TTL_SECONDS: '86400',
  ACCESS_TOKEN_TTL_SECONDS: '86400', // tokens signed while a test moved the clock back stay valid
};

const HOUR = 3_600_000;

interface Rate {
  usd_to_lbp: number | null;
  lbp_to_usd: number | null;
  contributors: { usd_to_lbp: number; lbp_to_usd: number };
  samples: { usd_to_lbp: number; lbp_to_usd: number };
  updated_at: string | null;
}

interface Who {
  id: number;
  established: boolean;
  established_at: string | null;
}

function helpers(t: () => TestApp, admin: () => TestUser) {
  const record = (u: TestUser, usd: number, rate: number, usdToLbp = true): Promise<Res> =>
    t().request('POST', '/transaction', {
      token: u.access,
      body: { usd_amount: usd, lbp_amount: Math.round(usd * rate * 100) / 100, usd_to_lbp: usdToLbp },
    });
  const rate = async (): Promise<Rate> => (await t().request('GET', '/exchangeRate')).json<Rate>();
  const whoami = async (u: TestUser): Promise<Who> =>
    (await t().request('GET', '/whoami', { token: u.access })).json<Who>();
  const trust = (u: { id: number }, trusted: boolean, as = admin()): Promise<Res> =>
    t().request('PUT', `/admin/users/${u.id}/trust`, { token: as.access, body: { trusted, note: 'test' } });
  const setStatus = (u: { id: number }, status: string): Promise<Res> =>
    t().request('PUT', `/admin/users/${u.id}/status`, { token: admin().access, body: { status } });
  /** A confirmed deposit (the admin confirms it). */
  const deposit = async (u: TestUser, currency: 'USD' | 'LBP', amount: number): Promise<void> => {
    const d = await t().request('POST', '/wallet/deposits', { token: u.access, body: { currency, amount } });
    expect(d.statusCode).toBe(201);
    const c = await t().request('POST', `/admin/deposits/${d.json().id}/confirm`, { token: admin().access });
    expect(c.statusCode).toBe(200);
  };
  /** `n` accounts trusted by the admin, each recording `usd` USD at the rates given (in turn). */
  const trustedRecorders = async (n: number, rates: number[], prefix = 'est'): Promise<TestUser[]> => {
    const users: TestUser[] = [];
    for (let i = 0; i < n; i++) {
      const u = await createUser(t(), prefix);
      expect((await trust(u, true)).statusCode).toBe(200);
      const res = await record(u, 100, rates[i % rates.length]);
      expect({ i, status: res.statusCode, body: res.body }).toMatchObject({ i, status: 201 });
      users.push(u);
    }
    return users;
  };
  return { record, rate, whoami, trust, setStatus, deposit, trustedRecorders };
}

/** Makes an account `hours` old (its creation moved back in the database). */
async function age(t: TestApp, u: { id: number }, hours: number): Promise<void> {
  await t.app
    .get(DataSource)
    .getRepository(UserEntity)
    .update({ id: u.id }, { createdAt: new Date(Date.now() - hours * HOUR) });
}

/** Moves the app's clock by `ms` (from the real time) until `restore()`. */
function shiftClock(t: TestApp, ms: number): { restore: () => void } {
  const clock = t.app.get(Clock);
  const spy = jest.spyOn(clock, 'now').mockImplementation(() => new Date(Date.now() + ms));
  return { restore: () => spy.mockRestore() };
}

describe('established accounts (production settings)', () => {
  let t: TestApp;
  let admin: TestUser;
  const h = helpers(
    () => t,
    () => admin,
  );

  beforeAll(async () => {
    t = await startTestApp(PRODUCTION);
    admin = await createAdmin(t);
  });
  afterAll(() => t.close());

  it('a new account is not established; /whoami and the admin list say so', async () => {
    const u = await createUser(t, 'fresh');
    expect(await h.whoami(u)).toMatchObject({ established: false, established_at: null });
    const list = (await t.request('GET', `/admin/users?q=${u.userName}`, { token: admin.access })).json<
      Who[]
    >();
    expect(list).toEqual([expect.objectContaining({ id: u.id, established: false, established_at: null })]);
    // its records are accepted and stored, and shown in its own list, but move nothing
    expect((await h.record(u, 100, 89_500)).statusCode).toBe(201);
    const mine = (await t.request('GET', '/transactions', { token: u.access })).json<unknown[]>();
    expect(mine).toHaveLength(1);
    expect(await h.rate()).toMatchObject({ usd_to_lbp: null, contributors: { usd_to_lbp: 0 } });
  });

  it('PUT /admin/users/:id/trust: fresh admin only, validated, not on yourself, unknown user 404', async () => {
    const u = await createUser(t, 'tv');
    const other = await createUser(t, 'tw');
    expect((await h.trust(u, true, other)).statusCode).toBe(403);
    const bad = await t.request('PUT', `/admin/users/${u.id}/trust`, {
      token: admin.access,
      body: { trusted: 'yes' },
    });
    expect([bad.statusCode, bad.json().code]).toEqual([400, 'VALIDATION_FAILED']);
    const extra = await t.request('PUT', `/admin/users/${u.id}/trust`, {
      token: admin.access,
      body: { trusted: true, established: true },
    });
    expect(extra.statusCode).toBe(400);
    expect((await h.trust({ id: 2_000_000_000 }, true)).statusCode).toBe(404);
    const self = await h.trust(admin, true);
    expect([self.statusCode, self.json().code]).toEqual([403, 'SELF_MODIFICATION_FORBIDDEN']);
    const ok = await h.trust(u, true);
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ id: u.id, trusted: true, established: true });
    expect(Date.parse(ok.json().established_at)).toBeGreaterThan(Date.now() - 60_000);
    expect(await h.whoami(u)).toMatchObject({ established: true });
    const off = await h.trust(u, false);
    expect(off.json()).toMatchObject({ trusted: false, established: false, established_at: null });
  });

  it('deposits of 50 USD and 24 hours of age establish an account, from the later of the two', async () => {
    const u = await createUser(t, 'dep');
    const small = await createUser(t, 'small');
    // a record made before it was established: stored, never counted
    expect((await h.record(u, 100, 89_000)).statusCode).toBe(201);
    await h.deposit(u, 'USD', 30);
    await h.deposit(u, 'USD', 20); // 50 in all: funded now, but not 24 hours old
    await h.deposit(small, 'USD', 49.99);
    expect(await h.whoami(u)).toMatchObject({ established: false, established_at: null });
    await age(t, u, 30);
    await age(t, small, 30);
    const who = await h.whoami(u);
    // 24 hours old 6 hours ago, funded just now: established since the funding
    expect(who.established).toBe(true);
    expect(Math.abs(Date.parse(who.established_at ?? '') - Date.now())).toBeLessThan(60_000);
    expect(await h.whoami(small)).toMatchObject({ established: false }); // 49.99 USD
    // funded 28 hours ago, 30 hours old: established since its 24th hour, 6 hours ago
    await t.app
      .get(DataSource)
      .getRepository(UserEntity)
      .update({ id: small.id }, { fundedAt: new Date(Date.now() - 28 * HOUR) });
    const old = await h.whoami(small);
    expect(old.established).toBe(true);
    expect(Math.abs(Date.parse(old.established_at ?? '') - (Date.now() - 6 * HOUR))).toBeLessThan(60_000);
    // the record made before it was established never counts; the new one does
    const before = await h.rate();
    expect((await h.record(u, 100, 89_600)).statusCode).toBe(201);
    const after = await h.rate();
    expect(after.contributors.usd_to_lbp).toBe(before.contributors.usd_to_lbp + 1);
    expect(after.samples.usd_to_lbp).toBe(before.samples.usd_to_lbp + 1);
  });

  it('an LBP deposit counts at the reference (valued where LBP is worth the least USD)', async () => {
    // a reference to value LBP with: three trusted contributors at 89,500
    await h.trustedRecorders(3, [89_500], 'lbpref');
    const u = await createUser(t, 'lbpdep');
    await age(t, u, 25);
    await h.deposit(u, 'LBP', 4_000_000); // about 44.7 USD: not enough
    expect(await h.whoami(u)).toMatchObject({ established: false });
    await h.deposit(u, 'LBP', 1_000_000); // about 55.9 USD in all
    expect(await h.whoami(u)).toMatchObject({ established: true });
  });
});

describe('the attack of the issue: a crowd of fresh accounts and a funded attacker', () => {
  let t: TestApp;
  let admin: TestUser;
  const h = helpers(
    () => t,
    () => admin,
  );

  beforeAll(async () => {
    t = await startTestApp({ ...PRODUCTION, HOUSE_MAX_NET_USD: '1000000' });
    admin = await createAdmin(t);
  });
  afterAll(() => t.close());

  it('20 fresh accounts ramping to +19% move the reference by 0; a funded attacker round trip loses', async () => {
    await h.trustedRecorders(5, [89_300, 89_400, 89_500, 89_600, 89_700]);
    const honest = await h.rate();
    expect(honest).toMatchObject({ usd_to_lbp: 89_500, contributors: { usd_to_lbp: 5 } });

    // the attacker: funded with a confirmed 10,000 USD deposit, not yet 24 hours old
    const attacker = await createUser(t, 'attacker');
    await h.deposit(attacker, 'USD', 10_000);
    expect(await h.whoami(attacker)).toMatchObject({ established: false });

    // 20 fresh accounts walk their records up to +19%, each step from where the last was accepted
    const crowd: TestUser[] = [];
    for (let i = 0; i < 20; i++) crowd.push(await createUser(t, 'crowd'));
    const statuses: number[] = [];
    for (let step = 1; step <= 19; step++) {
      for (const u of crowd) {
        const res = await h.record(u, 500, 89_500 * (1 + step / 100));
        statuses.push(res.statusCode);
        expect([201, 422]).toContain(res.statusCode);
        if (res.statusCode === 422) expect(res.json().code).toBe('RATE_OUTLIER');
      }
      const now = await h.rate();
      expect({ step, rate: now.usd_to_lbp, contributors: now.contributors.usd_to_lbp }).toEqual({
        step,
        rate: 89_500,
        contributors: 5,
      });
    }
    // the crowd's records near the market were accepted and stored (they still record), not counted
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(20 * 4);
    const analytics = await t.request(
      'GET',
      `/analytics/exchange-rate?direction=usd_to_lbp&from=${new Date(Date.now() - 24 * HOUR).toISOString()}&to=${new Date(Date.now() + HOUR).toISOString()}`,
      { token: crowd[0].access },
    );
    // market analytics show everyone's accepted records: the 5 honest ones and the crowd's
    expect(analytics.json().total_transactions).toBe(5 + statuses.filter((s) => s === 201).length);
    const after = await h.rate();
    expect(after).toMatchObject({
      usd_to_lbp: 89_500,
      contributors: { usd_to_lbp: 5 },
      samples: { usd_to_lbp: 5 },
    });

    // the attacker sells USD to the house at the "peak", the crowd walks down, the attacker buys back
    const wallet = async () => (await t.request('GET', '/wallet', { token: attacker.access })).json();
    const startUsd = (await wallet()).usd_balance;
    const sell = await t.request('POST', '/quotes', {
      token: attacker.access,
      body: { from_currency: 'USD', to_currency: 'LBP', from_amount: 4_900 },
    });
    expect(sell.statusCode).toBe(201);
    expect(sell.json().rate).toBeLessThan(89_500);
    expect(
      (
        await t.request('POST', '/wallet/convert', {
          token: attacker.access,
          body: { quote_id: sell.json().id },
        })
      ).statusCode,
    ).toBe(201);
    for (let step = 1; step <= 19; step++) {
      for (const u of crowd.slice(0, 10)) await h.record(u, 500, 89_500 * (1 - step / 100), false);
    }
    const lbp = (await wallet()).lbp_balance;
    const buy = await t.request('POST', '/quotes', {
      token: attacker.access,
      body: { from_currency: 'LBP', to_currency: 'USD', from_amount: lbp },
    });
    expect(buy.statusCode).toBe(201);
    expect(buy.json().rate).toBeGreaterThan(89_500);
    expect(
      (
        await t.request('POST', '/wallet/convert', {
          token: attacker.access,
          body: { quote_id: buy.json().id },
        })
      ).statusCode,
    ).toBe(201);
    const end = await wallet();
    expect(end.usd_balance).toBeLessThan(startUsd);
    expect(end.lbp_balance).toBe(0);
    // the house ends with value at the honest mid, and the ledger holds
    const verify = (await t.request('GET', '/admin/ledger/verify', { token: admin.access })).json();
    expect(verify.ok).toBe(true);
    const house = (await t.request('GET', '/admin/house', { token: admin.access })).json();
    expect(house.net_position.usd * 89_500 + house.net_position.lbp).toBeGreaterThan(0);
  });
});

describe('a colluding established minority', () => {
  let t: TestApp;
  let admin: TestUser;
  const h = helpers(
    () => t,
    () => admin,
  );

  beforeAll(async () => {
    t = await startTestApp(PRODUCTION);
    admin = await createAdmin(t);
  });
  afterAll(() => t.close());

  it('2 colluders against 6 honest contributors move it by at most 1%, however they push', async () => {
    await h.trustedRecorders(6, [89_350, 89_410, 89_470, 89_530, 89_590, 89_650], 'hon');
    const base = (await h.rate()).usd_to_lbp ?? 0;
    expect(base).toBe(89_500);
    const colluders = await h.trustedRecorders(2, [89_500], 'col');
    // each pushes as far as the outlier guard lets it, step by step, with growing volume
    for (let step = 1; step <= 25; step++) {
      for (const c of colluders) await h.record(c, 100 * step, base * (1 + step / 100));
    }
    const now = await h.rate();
    expect(now.contributors.usd_to_lbp).toBe(8);
    expect(Math.abs((now.usd_to_lbp ?? 0) - base) / base).toBeLessThanOrEqual(0.01);
  });
});

describe('standing changes take effect at once', () => {
  let t: TestApp;
  let admin: TestUser;
  const h = helpers(
    () => t,
    () => admin,
  );

  beforeAll(async () => {
    t = await startTestApp(PRODUCTION);
    admin = await createAdmin(t);
  });
  afterAll(() => t.close());

  it('distrust, suspension and a ban drop the samples mid-window; reinstatement brings them back', async () => {
    const users = await h.trustedRecorders(5, [89_300, 89_400, 89_500, 89_600, 89_700], 'st');
    expect(await h.rate()).toMatchObject({ usd_to_lbp: 89_500, contributors: { usd_to_lbp: 5 } });
    const high = users[4];
    expect((await h.trust(high, false)).statusCode).toBe(200);
    expect(await h.rate()).toMatchObject({ usd_to_lbp: 89_450, contributors: { usd_to_lbp: 4 } });
    // a distrusted account's new records are accepted but never count, even once trusted again
    expect((await h.record(high, 100, 89_800)).statusCode).toBe(201);
    expect((await h.trust(high, true)).statusCode).toBe(200);
    const back = await h.rate();
    expect(back).toMatchObject({
      usd_to_lbp: 89_500,
      contributors: { usd_to_lbp: 5 },
      samples: { usd_to_lbp: 5 },
    });

    const low = users[0];
    expect((await h.setStatus(low, 'SUSPENDED')).statusCode).toBe(200);
    expect(await h.rate()).toMatchObject({ usd_to_lbp: 89_550, contributors: { usd_to_lbp: 4 } });
    expect((await h.setStatus(users[1], 'BANNED')).statusCode).toBe(200);
    expect(await h.rate()).toMatchObject({ usd_to_lbp: 89_600, contributors: { usd_to_lbp: 3 } });
    expect((await h.setStatus(low, 'ACTIVE')).statusCode).toBe(200);
    expect(await h.rate()).toMatchObject({ usd_to_lbp: 89_550, contributors: { usd_to_lbp: 4 } });
  });

  it('freshness counts established samples only: a new account cannot revive a stale reference', async () => {
    const t2 = await startTestApp(PRODUCTION);
    try {
      const admin2 = await createAdmin(t2);
      const h2 = helpers(
        () => t2,
        () => admin2,
      );
      // the established samples are 2 hours old
      const past = shiftClock(t2, -2 * HOUR);
      try {
        await h2.trustedRecorders(3, [89_400, 89_500, 89_600], 'old');
      } finally {
        past.restore();
      }
      const fresh = await createUser(t2, 'reviver');
      expect((await h2.record(fresh, 100, 89_500)).statusCode).toBe(201);
      const r = await h2.rate();
      expect(r.usd_to_lbp).toBe(89_500);
      expect(Date.now() - Date.parse(r.updated_at ?? '')).toBeGreaterThan(HOUR);
      const q = await t2.request('POST', '/quotes', {
        token: fresh.access,
        body: { from_currency: 'USD', to_currency: 'LBP', from_amount: 10 },
      });
      expect([q.statusCode, q.json().code, q.json().details]).toEqual([
        422,
        'NO_QUOTE',
        [{ field: 'reference', message: 'stale' }],
      ]);
    } finally {
      await t2.close();
    }
  });
});
