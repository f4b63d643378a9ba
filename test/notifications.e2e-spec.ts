import { NotificationsService } from '../src/notifications/notifications.service';
import { createUser, type TestUser } from './factories/users';
import { startTestApp, type TestApp } from './test-app';

jest.setTimeout(60_000);

describe('notifications inbox', () => {
  let t: TestApp;
  let svc: NotificationsService;

  beforeAll(async () => {
    t = await startTestApp();
    svc = t.app.get(NotificationsService);
  });
  afterAll(async () => {
    await t.close();
  });

  const notify = (u: TestUser, n: number, occasion = '') =>
    svc.notify({
      userId: u.id,
      eventType: 'ALERT_TRIGGERED',
      title: `Alert ${n}`,
      message: `m${n}`,
      refType: 'alert',
      refId: n,
      occasion,
    });

  it('the same (user, event, object, occasion) is stored once, even when notified 20 times at once', async () => {
    const u = await createUser(t);
    const stored = await Promise.all(Array.from({ length: 20 }, () => notify(u, 1)));
    expect(stored.filter(Boolean)).toHaveLength(1);
    expect(await notify(u, 1, '2026-11-25')).toBe(true); // another occasion is another notification
    const list = await t.request('GET', '/notifications', { token: u.access });
    expect(list.json()).toHaveLength(2);
    // a one-off event without an object is unique too
    expect(await svc.notify({ userId: u.id, eventType: 'WELCOME', title: 'Hi', message: 'Welcome' })).toBe(
      true,
    );
    expect(await svc.notify({ userId: u.id, eventType: 'WELCOME', title: 'Hi', message: 'Welcome' })).toBe(
      false,
    );
  });

  it('lists newest first with the contract fields, filters unread, and counts unread', async () => {
    const u = await createUser(t);
    for (const n of [1, 2, 3]) await notify(u, n);
    const list = await t.request('GET', '/notifications', { token: u.access });
    expect(list.statusCode).toBe(200);
    expect(list.headers['x-total-count']).toBe('3');
    const rows = list.json();
    expect(rows.map((r: { title: string }) => r.title)).toEqual(['Alert 3', 'Alert 2', 'Alert 1']);
    expect(rows[0]).toEqual({
      id: expect.any(Number),
      event_type: 'ALERT_TRIGGERED',
      title: 'Alert 3',
      message: 'm3',
      ref_type: 'alert',
      ref_id: 3,
      is_read: false,
      created_at: expect.stringMatching(/Z$/),
    });
    const read = await t.request('PATCH', `/notifications/${rows[1].id}/read`, { token: u.access });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ id: rows[1].id, is_read: true });
    const unread = await t.request('GET', '/notifications?unread_only=true', { token: u.access });
    expect(unread.json().map((r: { id: number }) => r.id)).toEqual([rows[0].id, rows[2].id]);
    expect((await t.request('GET', '/notifications/unread-count', { token: u.access })).json()).toEqual({
      count: 2,
    });
    expect((await t.request('GET', '/notifications?unread_only=maybe', { token: u.access })).statusCode).toBe(
      400,
    );
  });

  it('mark-all-read and the unread count agree', async () => {
    const u = await createUser(t);
    for (const n of [1, 2, 3, 4]) await notify(u, n);
    await t.request(
      'PATCH',
      `/notifications/${(await t.request('GET', '/notifications', { token: u.access })).json()[0].id}/read`,
      {
        token: u.access,
      },
    );
    const before = (await t.request('GET', '/notifications/unread-count', { token: u.access })).json().count;
    const all = await t.request('PATCH', '/notifications/read-all', {
      token: u.access,
      raw: '',
      headers: { 'content-type': 'application/json' },
    });
    expect(all.statusCode).toBe(200);
    expect(all.json().updated).toBe(before);
    expect((await t.request('GET', '/notifications/unread-count', { token: u.access })).json()).toEqual({
      count: 0,
    });
    expect((await t.request('PATCH', '/notifications/read-all', { token: u.access })).json().updated).toBe(0);
  });

  it("refuses other users' rows with 404 and leaves them untouched", async () => {
    const owner = await createUser(t);
    const other = await createUser(t);
    await notify(owner, 7);
    const id = (await t.request('GET', '/notifications', { token: owner.access })).json()[0].id as number;
    expect((await t.request('PATCH', `/notifications/${id}/read`, { token: other.access })).statusCode).toBe(
      404,
    );
    expect((await t.request('DELETE', `/notifications/${id}`, { token: other.access })).statusCode).toBe(404);
    expect((await t.request('GET', '/notifications', { token: other.access })).json()).toEqual([]);
    await t.request('PATCH', '/notifications/read-all', { token: other.access });
    expect((await t.request('GET', '/notifications/unread-count', { token: owner.access })).json()).toEqual({
      count: 1,
    });
    const del = await t.request('DELETE', `/notifications/${id}`, { token: owner.access });
    expect(del.statusCode).toBe(200);
    expect((await t.request('DELETE', `/notifications/${id}`, { token: owner.access })).statusCode).toBe(404);
    expect((await t.request('PATCH', '/notifications/abc/read', { token: owner.access })).statusCode).toBe(
      400,
    );
    expect((await t.request('GET', '/notifications')).statusCode).toBe(401);
  });
});
