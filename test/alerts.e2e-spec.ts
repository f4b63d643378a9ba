import { DataSource } from 'typeorm';
import { AlertsService } from '../src/alerts/alerts.service';
import { NotificationEntity } from '../src/notifications/notification.entity';
import { createAdmin, createUser, login, type TestUser } from './factories/users';
import { type Res, startTestApp, type TestApp } from './test-app';

jest.setTimeout(120_000);

interface AlertBody {
  id: number;
  direction: string;
  condition: string;
  threshold: number;
  is_active: boolean;
  triggered_at: string | null;
  trigger_rate: number | null;
  created_at: string;
}

interface LogPage {
  total: number;
  logs: {
    event_type: string;
    actor_user_id: number | null;
    target_user_id: number | null;
    metadata_json: string;
  }[];
}

const APP_ENV = {
  TRANSACTION_RATE_LIMIT: '100000',
  OUTLIER_BASELINE_CACHE_SECONDS: '0',
  // one trader's records publish the reference here: these tests are about alerts, not contributors
  RATE_MIN_CONTRIBUTORS: '1',
};

function helpers(get: () => TestApp) {
  const createAlert = (u: TestUser, body: Record<string, unknown>): Promise<Res> =>
    get().request('POST', '/alerts', { token: u.access, body });
  const newAlert = async (u: TestUser, body: Record<string, unknown>): Promise<AlertBody> => {
    const res = await createAlert(u, body);
    expect(res.statusCode).toBe(201);
    return res.json<AlertBody>();
  };
  const alertsOf = async (u: TestUser): Promise<Map<number, AlertBody>> => {
    const res = await get().request('GET', '/alerts?limit=200', { token: u.access });
    expect(res.statusCode).toBe(200);
    return new Map(res.json<AlertBody[]>().map((a) => [a.id, a]));
  };
  const transact = (u: TestUser, body: Record<string, unknown>): Promise<Res> =>
    get().request('POST', '/transaction', { token: u.access, body });
  const logs = async (admin: TestUser, query: string): Promise<LogPage> => {
    const res = await get().request('GET', `/admin/logs?${query}`, { token: admin.access });
    expect(res.statusCode).toBe(200);
    return res.json<LogPage>();
  };
  const triggeredNotifications = (userId: number): Promise<NotificationEntity[]> =>
    get()
      .app.get(DataSource)
      .getRepository(NotificationEntity)
      .find({ where: { userId, eventType: 'ALERT_TRIGGERED' } });
  return { createAlert, newAlert, alertsOf, transact, logs, triggeredNotifications };
}

describe('alerts: routes, validation, ownership, admin, audit, exact-equality firing', () => {
  let t: TestApp;
  let admin: TestUser;
  const h = helpers(() => t);

  beforeAll(async () => {
    t = await startTestApp(APP_ENV);
    admin = await createAdmin(t);
  });
  afterAll(async () => {
    await t.close();
  });

  async function nonFresh(u: TestUser): Promise<string> {
    const s = await login(t, u.userName, u.password);
    const res = await t.request('POST', '/refresh', { token: s.refresh });
    expect(res.statusCode).toBe(200);
    return res.json<{ access_token: string }>().access_token;
  }

  it('POST /alerts → 201 with the contract body; GET /alerts lists own alerts newest first, paged', async () => {
    const u = await createUser(t);
    const other = await createUser(t);
    await h.newAlert(other, { direction: 'usd_to_lbp', condition: 'above', threshold: 1e9 });
    const res = await h.createAlert(u, { direction: 'usd_to_lbp', condition: 'above', threshold: 95000.5 });
    expect(res.statusCode).toBe(201);
    const a = res.json<AlertBody>();
    expect(a).toEqual({
      id: expect.any(Number),
      direction: 'usd_to_lbp',
      condition: 'above',
      threshold: 95000.5,
      is_active: true,
      triggered_at: null,
      trigger_rate: null,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    const b = await h.newAlert(u, { direction: 'lbp_to_usd', condition: 'below', threshold: 1 });
    const list = await t.request('GET', '/alerts', { token: u.access });
    expect(list.headers['x-total-count']).toBe('2');
    expect(list.json()).toEqual([b, a]);
    const page = await t.request('GET', '/alerts?limit=1&offset=1', { token: u.access });
    expect(page.json()).toEqual([a]);
    expect(page.headers['x-total-count']).toBe('2');
    expect((await t.request('GET', '/alerts?limit=0', { token: u.access })).statusCode).toBe(400);
  });

  it.each([
    [{ condition: 'above', threshold: 1 }, 'direction'],
    [{ direction: 'sideways', condition: 'above', threshold: 1 }, 'direction'],
    [{ direction: 'usd_to_lbp', condition: 'equal', threshold: 1 }, 'condition'],
    [{ direction: 'usd_to_lbp', threshold: 1 }, 'condition'],
    [{ direction: 'usd_to_lbp', condition: 'above' }, 'threshold'],
    [{ direction: 'usd_to_lbp', condition: 'above', threshold: 0 }, 'threshold'],
    [{ direction: 'usd_to_lbp', condition: 'above', threshold: -5 }, 'threshold'],
    [{ direction: 'usd_to_lbp', condition: 'above', threshold: 1e9 + 1 }, 'threshold'],
    [{ direction: 'usd_to_lbp', condition: 'above', threshold: '90000' }, 'threshold'],
    [{ direction: 'usd_to_lbp', condition: 'above', threshold: null }, 'threshold'],
    [{ direction: 'usd_to_lbp', condition: 'above', threshold: 1, is_active: false }, 'is_active'],
    [{ direction: 'usd_to_lbp', condition: 'above', threshold: 1, user_id: 1 }, 'user_id'],
  ])('400 for %p naming %s', async (body, field) => {
    const u = await createUser(t);
    const res = await h.createAlert(u, body);
    expect(res.statusCode).toBe(400);
    const err = res.json<{ code: string; details: { field: string }[] }>();
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.details.map((d) => d.field)).toContain(field);
    expect((await t.request('GET', '/alerts', { token: u.access })).json()).toEqual([]);
  });

  it('DELETE /alerts/:id: own only (another user’s → 404 and it stays), then 404 once gone; bad id → 400', async () => {
    const u = await createUser(t);
    const other = await createUser(t);
    const a = await h.newAlert(u, { direction: 'usd_to_lbp', condition: 'below', threshold: 50000 });
    const foreign = await t.request('DELETE', `/alerts/${a.id}`, { token: other.access });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json()).toMatchObject({ code: 'ALERT_NOT_FOUND', statusCode: 404 });
    expect((await h.alertsOf(u)).has(a.id)).toBe(true);
    const del = await t.request('DELETE', `/alerts/${a.id}`, { token: u.access });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toEqual({ message: 'Alert deleted', id: a.id });
    expect((await h.alertsOf(u)).has(a.id)).toBe(false);
    expect((await t.request('DELETE', `/alerts/${a.id}`, { token: u.access })).statusCode).toBe(404);
    expect((await t.request('DELETE', '/alerts/abc', { token: u.access })).statusCode).toBe(400);
    // GET /alerts/triggered shows only own fired alerts: none here
    const trig = await t.request('GET', '/alerts/triggered', { token: other.access });
    expect(trig.json().triggered).toEqual([]);
  });

  it('requires a token', async () => {
    expect((await t.request('GET', '/alerts')).statusCode).toBe(401);
    expect((await t.request('GET', '/alerts/triggered')).statusCode).toBe(401);
    expect(
      (
        await t.request('POST', '/alerts', {
          body: { direction: 'usd_to_lbp', condition: 'above', threshold: 1 },
        })
      ).statusCode,
    ).toBe(401);
    expect((await t.request('DELETE', '/alerts/1')).statusCode).toBe(401);
  });

  it('admin: lists a user’s alerts; deletes any alert only with a fresh token; users are refused', async () => {
    const u = await createUser(t);
    const a = await h.newAlert(u, { direction: 'lbp_to_usd', condition: 'above', threshold: 123456 });
    const list = await t.request('GET', `/admin/users/${u.id}/alerts`, { token: admin.access });
    expect(list.statusCode).toBe(200);
    expect(list.headers['x-total-count']).toBe('1');
    expect(list.json()).toEqual([{ ...a, user_id: u.id }]);
    expect((await t.request('GET', '/admin/users/999999/alerts', { token: admin.access })).statusCode).toBe(
      404,
    );
    expect((await t.request('GET', `/admin/users/${u.id}/alerts`, { token: u.access })).statusCode).toBe(403);

    const asUser = await t.request('DELETE', `/admin/alerts/${a.id}`, { token: u.access });
    expect(asUser.statusCode).toBe(403);
    const stale = await t.request('DELETE', `/admin/alerts/${a.id}`, { token: await nonFresh(admin) });
    expect(stale.statusCode).toBe(403);
    expect(stale.json().code).toBe('FRESH_TOKEN_REQUIRED');
    expect((await h.alertsOf(u)).has(a.id)).toBe(true);

    const del = await t.request('DELETE', `/admin/alerts/${a.id}`, { token: admin.access });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toEqual({ message: 'Alert deleted', id: a.id });
    expect((await h.alertsOf(u)).has(a.id)).toBe(false);
    expect((await t.request('DELETE', `/admin/alerts/${a.id}`, { token: admin.access })).statusCode).toBe(
      404,
    );

    const adminRows = await h.logs(
      admin,
      `event_type=ADMIN_ALERT_DELETE&target_user_id=${u.id}&success=true`,
    );
    expect(adminRows.total).toBe(1);
    expect(adminRows.logs[0].actor_user_id).toBe(admin.id);
    expect(JSON.parse(adminRows.logs[0].metadata_json)).toMatchObject({ alert_id: a.id, threshold: 123456 });
  });

  it('audit rows for create and delete commit with the change', async () => {
    const u = await createUser(t);
    const a = await h.newAlert(u, { direction: 'usd_to_lbp', condition: 'above', threshold: 99999 });
    await t.request('DELETE', `/alerts/${a.id}`, { token: u.access });
    const created = await h.logs(admin, `event_type=ALERT_CREATE&actor_user_id=${u.id}&success=true`);
    expect(created.total).toBe(1);
    expect(JSON.parse(created.logs[0].metadata_json)).toMatchObject({
      alert_id: a.id,
      direction: 'usd_to_lbp',
      condition: 'above',
      threshold: 99999,
    });
    const deleted = await h.logs(admin, `event_type=ALERT_DELETE&actor_user_id=${u.id}&success=true`);
    expect(deleted.total).toBe(1);
    expect(deleted.logs[0].target_user_id).toBe(u.id);
  });

  // Runs last in this app: it is the only test that records rate samples, all at exactly 89,500, so
  // the usd_to_lbp market rate is exactly 89,500 and lbp_to_usd has no data.
  it('above and below fire at exact equality, in the request that moved the rate; unmet ones stay active', async () => {
    const u = await createUser(t);
    const trader = await createUser(t);
    const before = await t.request('GET', '/alerts/triggered', { token: u.access });
    expect(before.json()).toEqual({ current_rates: { usd_to_lbp: null, lbp_to_usd: null }, triggered: [] });

    const above = await h.newAlert(u, { direction: 'usd_to_lbp', condition: 'above', threshold: 89500 });
    const below = await h.newAlert(u, { direction: 'usd_to_lbp', condition: 'below', threshold: 89500 });
    const aboveUnmet = await h.newAlert(u, {
      direction: 'usd_to_lbp',
      condition: 'above',
      threshold: 89500.01,
    });
    const belowUnmet = await h.newAlert(u, {
      direction: 'usd_to_lbp',
      condition: 'below',
      threshold: 89499.99,
    });
    const noData = await h.newAlert(u, { direction: 'lbp_to_usd', condition: 'above', threshold: 1 });

    const tx = await h.transact(trader, { usd_amount: 100, lbp_amount: 8950000, usd_to_lbp: true });
    expect(tx.statusCode).toBe(201);
    expect((await t.request('GET', '/exchangeRate')).json()).toMatchObject({
      usd_to_lbp: 89500,
      lbp_to_usd: null,
    });

    // fired by POST /transaction itself, before it answered
    const after = await h.alertsOf(u);
    for (const fired of [above, below]) {
      expect(after.get(fired.id)).toEqual({
        ...fired,
        is_active: false,
        trigger_rate: 89500,
        triggered_at: expect.stringMatching(/Z$/),
      });
    }
    for (const unmet of [aboveUnmet, belowUnmet, noData]) expect(after.get(unmet.id)).toEqual(unmet);

    // more samples at the same rate and sweeps change nothing
    expect(
      (await h.transact(trader, { usd_amount: 50, lbp_amount: 4475000, usd_to_lbp: true })).statusCode,
    ).toBe(201);
    expect(await t.app.get(AlertsService).sweep()).toBe(0);
    const notes = await h.triggeredNotifications(u.id);
    expect(notes.map((n) => [n.refType, n.refId, n.occasion]).sort()).toEqual(
      [
        ['alert', above.id, ''],
        ['alert', below.id, ''],
      ].sort(),
    );
    const inbox = await t.request('GET', '/notifications', { token: u.access });
    expect(inbox.json()).toHaveLength(2);
    expect(inbox.json()[0]).toMatchObject({
      event_type: 'ALERT_TRIGGERED',
      ref_type: 'alert',
      is_read: false,
    });

    const trig = await t.request('GET', '/alerts/triggered', { token: u.access });
    expect(trig.statusCode).toBe(200);
    const body = trig.json<{ current_rates: unknown; triggered: Record<string, unknown>[] }>();
    expect(body.current_rates).toEqual({ usd_to_lbp: 89500, lbp_to_usd: null });
    expect(body.triggered).toHaveLength(2);
    const byId = new Map(body.triggered.map((x) => [x.id, x]));
    for (const fired of [above, below]) {
      expect(byId.get(fired.id)).toEqual({
        id: fired.id,
        direction: 'usd_to_lbp',
        condition: fired.condition,
        threshold: 89500,
        current_rate: 89500,
        triggered_at: after.get(fired.id)?.triggered_at,
      });
    }

    const audit = await h.logs(admin, `event_type=ALERT_TRIGGERED&target_user_id=${u.id}`);
    expect(audit.total).toBe(2);
  });
});

describe('alerts fire exactly once under concurrency', () => {
  let t: TestApp;
  let admin: TestUser;
  const h = helpers(() => t);

  beforeAll(async () => {
    t = await startTestApp(APP_ENV);
    admin = await createAdmin(t);
  });
  afterAll(async () => {
    await t.close();
  });

  it('20 concurrent rate-moving transactions plus repeated sweeps: one firing, one notification', async () => {
    const owner = await createUser(t);
    const bystander = await createUser(t);
    const alert = await h.newAlert(owner, { direction: 'lbp_to_usd', condition: 'above', threshold: 89600 });
    const unmet = await h.newAlert(bystander, {
      direction: 'lbp_to_usd',
      condition: 'below',
      threshold: 89000,
    });
    const traders = await Promise.all(Array.from({ length: 4 }, () => createUser(t)));

    const res = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        h.transact(traders[i % traders.length], { usd_amount: 10, lbp_amount: 897000, usd_to_lbp: false }),
      ),
    );
    expect(res.map((r) => r.statusCode)).toEqual(Array(20).fill(201));

    const fired = (await h.alertsOf(owner)).get(alert.id);
    expect(fired).toMatchObject({ is_active: false, trigger_rate: 89700 });
    expect(fired?.triggered_at).toEqual(expect.stringMatching(/Z$/));

    const alerts = t.app.get(AlertsService);
    const sweeps = await Promise.all(Array.from({ length: 5 }, () => alerts.sweep()));
    for (let i = 0; i < 3; i++) sweeps.push(await alerts.sweep());
    expect(sweeps).toEqual(Array(8).fill(0));

    expect((await h.alertsOf(owner)).get(alert.id)).toEqual(fired);
    expect((await h.alertsOf(bystander)).get(unmet.id)).toEqual(unmet);
    const notes = await h.triggeredNotifications(owner.id);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ refType: 'alert', refId: alert.id, occasion: '' });
    expect(await h.triggeredNotifications(bystander.id)).toEqual([]);
    expect((await h.logs(admin, `event_type=ALERT_TRIGGERED&target_user_id=${owner.id}`)).total).toBe(1);
  });

  it('an alert already met when created fires on the next sweep, once', async () => {
    const u = await createUser(t);
    const a = await h.newAlert(u, { direction: 'lbp_to_usd', condition: 'below', threshold: 90000 });
    expect((await h.alertsOf(u)).get(a.id)?.is_active).toBe(true);
    const alerts = t.app.get(AlertsService);
    const counts = await Promise.all([alerts.sweep(), alerts.sweep(), alerts.evaluate('lbp_to_usd')]);
    expect(counts.reduce((x, y) => x + y, 0)).toBe(1);
    expect((await h.alertsOf(u)).get(a.id)).toMatchObject({ is_active: false, trigger_rate: 89700 });
    expect(await h.triggeredNotifications(u.id)).toHaveLength(1);
  });
});
