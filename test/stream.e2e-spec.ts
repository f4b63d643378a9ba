import { Clock } from '../src/common/clock';
import { StreamService } from '../src/stream/stream.service';
import { createAdmin, createUser, type TestUser } from './factories/users';
import { SseClient, type SseEvent } from './support/sse-client';
import { startTestApp, type TestApp } from './test-app';

/**
 * GET /stream end to end over a real socket: tickets (one use, expiry, the session behind them),
 * the three event kinds with their ids, Last-Event-ID resume, the per-user cap, the session check
 * on each heartbeat, and the end of every stream when the app closes.
 */

jest.setTimeout(60_000);

interface RateBody {
  usd_to_lbp: number | null;
  lbp_to_usd: number | null;
}
interface OfferEventBody {
  action: string;
  offer: { id: number; status: string; creator_user_id: number };
}
interface NotificationBody {
  id: number;
  event_type: string;
  ref_type: string | null;
  ref_id: number | null;
}

const data = <T>(e: SseEvent): T => JSON.parse(e.data) as T;

async function endsWithin(s: SseClient, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      s.ended,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`stream still open after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe('live stream (GET /stream)', () => {
  let t: TestApp;
  let base: string;
  let alice: TestUser;
  let bob: TestUser;
  const open: SseClient[] = [];

  beforeAll(async () => {
    t = await startTestApp({
      RATE_MIN_CONTRIBUTORS: '1',
      STARTING_BALANCE_USD: '10000',
      STARTING_BALANCE_LBP: '1000000000',
      STREAM_MAX_PER_USER: '3',
      STREAM_HEARTBEAT_SECONDS: '1',
      TRANSACTION_RATE_LIMIT: '10000',
      OFFER_RATE_LIMIT: '10000',
      STREAM_TICKET_RATE_LIMIT: '10000',
    });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const address = t.app.getHttpServer().address();
    if (!address || typeof address === 'string') throw new Error('no port');
    base = `http://127.0.0.1:${address.port}`;
    alice = await createUser(t, 'alice');
    bob = await createUser(t, 'bob');
  });
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
  });
  afterAll(async () => {
    await t?.close();
  });

  async function ticket(user: TestUser): Promise<string> {
    const res = await t.request('POST', '/stream/ticket', {
      token: user.access,
      headers: { 'content-type': 'application/json' }, // what the dashboard sends on body-less POSTs
    });
    expect(res.statusCode).toBe(201);
    return res.json<{ ticket: string }>().ticket;
  }

  async function connect(
    user: TestUser,
    extra = '',
    headers: Record<string, string> = {},
  ): Promise<SseClient> {
    const c = await SseClient.open(base, `/stream?ticket=${await ticket(user)}${extra}`, headers);
    open.push(c);
    return c;
  }

  async function record(user: TestUser, usd: number, lbp: number): Promise<void> {
    const res = await t.request('POST', '/transaction', {
      token: user.access,
      body: { usd_amount: usd, lbp_amount: lbp, usd_to_lbp: true },
    });
    expect(res.statusCode).toBe(201);
  }

  it('POST /stream/ticket needs an access token and answers {ticket, expires_at}', async () => {
    expect((await t.request('POST', '/stream/ticket')).statusCode).toBe(401);
    expect((await t.request('POST', '/stream/ticket', { token: alice.refresh })).statusCode).toBe(401);
    const res = await t.request('POST', '/stream/ticket', { token: alice.access });
    expect(res.statusCode).toBe(201);
    const body = res.json<{ ticket: string; expires_at: string }>();
    expect(body.ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const ttl = Date.parse(body.expires_at) - Date.now();
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('a ticket opens one stream: a second use, an unknown or a malformed ticket is refused', async () => {
    const tk = await ticket(alice);
    const first = await SseClient.open(base, `/stream?ticket=${tk}`);
    open.push(first);
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toMatch(/^text\/event-stream/);
    const again = await SseClient.open(base, `/stream?ticket=${tk}`);
    await again.ended;
    expect(again.status).toBe(401);
    expect(JSON.parse(again.body)).toMatchObject({ code: 'INVALID_TICKET', statusCode: 401 });

    const unknown = await SseClient.open(base, `/stream?ticket=${'A'.repeat(43)}`);
    await unknown.ended;
    expect(unknown.status).toBe(401);
    for (const bad of ['', 'short', `${'A'.repeat(42)}!`]) {
      const res = await t.request('GET', `/stream?ticket=${encodeURIComponent(bad)}`);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ statusCode: 400 });
    }
    expect((await t.request('GET', '/stream')).statusCode).toBe(400);
    // an unknown parameter is refused before the ticket is used up
    const kept = await ticket(alice);
    const extra = await t.request('GET', `/stream?ticket=${kept}&user_id=1`);
    expect(extra.statusCode).toBe(400);
    expect(extra.json().details).toEqual([expect.objectContaining({ field: 'user_id' })]);
    const ok = await SseClient.open(base, `/stream?ticket=${kept}`);
    open.push(ok);
    expect(ok.status).toBe(200);
  });

  it('an expired ticket is refused', async () => {
    const tk = await ticket(alice);
    const clock = t.app.get(Clock);
    const spy = jest.spyOn(clock, 'now').mockReturnValue(new Date(Date.now() + 61_000));
    try {
      const res = await SseClient.open(base, `/stream?ticket=${tk}`);
      await res.ended;
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body).code).toBe('INVALID_TICKET');
    } finally {
      spy.mockRestore();
    }
  });

  it('sends the rate on connect, then a rate event when another user’s record moves it', async () => {
    const s = await connect(alice);
    const first = await s.next((e) => e.type === 'rate');
    expect(first.id).toMatch(/^\d+-\d+$/);
    const before = data<RateBody>(first).usd_to_lbp;
    const target = (before ?? 89_000) + 1_000;
    await record(bob, 100, 100 * target);
    const moved = await s.next((e) => e.type === 'rate' && data<RateBody>(e).usd_to_lbp !== before);
    expect(data<RateBody>(moved).usd_to_lbp).not.toBe(before);
    expect(moved.id).toMatch(/^\d+-\d+$/);
    // ids grow along the stream
    const seqs = s.events.filter((e) => e.id).map((e) => Number(e.id?.split('-')[1] ?? 0));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('a record that does not move the published rate sends no rate event', async () => {
    const s = await connect(alice);
    const first = await s.next((e) => e.type === 'rate');
    const rate = data<RateBody>(first).usd_to_lbp;
    expect(rate).not.toBeNull();
    // alice joins at exactly the published rate: the median over contributors stays where it is
    await record(alice, 100, 100 * (rate as number));
    const after = await t.request('GET', '/exchangeRate');
    expect(after.json<RateBody>().usd_to_lbp).toBe(rate);
    await new Promise((r) => setTimeout(r, 700)); // past the 200 ms in which commits are looked at
    expect(s.ofType('rate')).toHaveLength(1);
    // and one that moves it does send one (so the silence above is not a stream that stopped)
    await record(bob, 100, 100 * ((rate as number) + 2_000));
    await s.next((e) => e.type === 'rate' && data<RateBody>(e).usd_to_lbp !== rate);
  });

  it('sends offer events when an offer is created and cancelled', async () => {
    const s = await connect(alice);
    await s.next((e) => e.type === 'rate');
    const created = await t.request('POST', '/market/offers', {
      token: bob.access,
      body: { give_currency: 'USD', give_amount: 50, want_currency: 'LBP', want_amount: 50 * 90_000 },
    });
    expect(created.statusCode).toBe(201);
    const id = created.json<{ id: number }>().id;
    const ev = await s.next((e) => e.type === 'offer' && data<OfferEventBody>(e).offer.id === id);
    expect(data<OfferEventBody>(ev)).toMatchObject({
      action: 'created',
      offer: { id, status: 'OPEN', creator_user_id: bob.id },
    });
    expect(ev.id).toMatch(/^\d+-\d+$/);
    expect((await t.request('DELETE', `/market/offers/${id}`, { token: bob.access })).statusCode).toBe(200);
    const closed = await s.next((e) => e.type === 'offer' && data<OfferEventBody>(e).action === 'cancelled');
    expect(data<OfferEventBody>(closed).offer).toMatchObject({ id, status: 'CANCELLED' });
  });

  it('sends an offer event when an offer is filled', async () => {
    const s = await connect(alice);
    const created = await t.request('POST', '/market/offers', {
      token: bob.access,
      body: { give_currency: 'USD', give_amount: 20, want_currency: 'LBP', want_amount: 20 * 90_000 },
    });
    const id = created.json<{ id: number }>().id;
    const taken = await t.request('POST', `/market/offers/${id}/accept`, {
      token: alice.access,
      headers: { 'content-type': 'application/json' },
    });
    expect(taken.statusCode).toBe(201);
    const ev = await s.next((e) => e.type === 'offer' && data<OfferEventBody>(e).action === 'filled');
    expect(data<OfferEventBody>(ev).offer).toMatchObject({ id, status: 'COMPLETED' });
  });

  it('sends the user’s own notification when an alert fires, to that user only', async () => {
    const mine = await connect(alice);
    const theirs = await connect(bob);
    const first = await mine.next((e) => e.type === 'rate');
    await theirs.next((e) => e.type === 'rate');
    const now = Math.round(data<RateBody>(first).usd_to_lbp ?? 90_000);
    const alert = await t.request('POST', '/alerts', {
      token: alice.access,
      body: { direction: 'usd_to_lbp', condition: 'above', threshold: now + 500 },
    });
    expect(alert.statusCode).toBe(201);
    const alertId = alert.json<{ id: number }>().id;
    // bob's records move the published usd_to_lbp rate above the threshold
    for (let i = 0; i < 3; i++) await record(bob, 100, 100 * (now + 5_000));
    const n = await mine.next((e) => e.type === 'notification');
    const body = data<NotificationBody>(n);
    expect(body).toMatchObject({ event_type: 'ALERT_TRIGGERED', ref_type: 'alert', ref_id: alertId });
    expect(n.id).toBe(String(body.id));
    // the REST list has the same notification
    const list = await t.request('GET', '/notifications', { token: alice.access });
    expect(list.json<NotificationBody[]>().map((x) => x.id)).toContain(body.id);
    await new Promise((r) => setTimeout(r, 300));
    expect(theirs.ofType('notification').filter((e) => data<NotificationBody>(e).id === body.id)).toEqual([]);
  });

  it('a reconnect with Last-Event-ID (header or parameter) gets exactly the notifications it missed', async () => {
    const s = await connect(alice);
    const first = await s.next((e) => e.type === 'rate');
    const lastId = first.id as string;
    s.close();
    // three notifications while away: alerts that fire at once
    const rate = Math.round(data<RateBody>(first).usd_to_lbp ?? 90_000);
    const alertIds: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await t.request('POST', '/alerts', {
        token: alice.access,
        body: { direction: 'usd_to_lbp', condition: 'above', threshold: rate + 100 + i },
      });
      alertIds.push(res.json<{ id: number }>().id);
    }
    await record(bob, 100, 100 * (rate + 10_000));
    await record(bob, 100, 100 * (rate + 10_000));
    // wait until the three have fired
    for (let i = 0; i < 50; i++) {
      const list = await t.request('GET', '/notifications?limit=10', { token: alice.access });
      const fired = list.json<NotificationBody[]>().filter((n) => alertIds.includes(n.ref_id ?? -1));
      if (fired.length === 3) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const viaHeader = await connect(alice, '', { 'last-event-id': lastId });
    await viaHeader.next((e) => e.type === 'rate');
    const got = viaHeader.ofType('notification').map((e) => data<NotificationBody>(e));
    expect(got.filter((n) => alertIds.includes(n.ref_id ?? -1)).map((n) => n.ref_id)).toEqual(alertIds);
    // oldest first, no duplicate, and each id is its notification's
    const ids = got.map((n) => n.id);
    expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
    // the missed ones come before the rate of the new connection
    const kinds = viaHeader.events.filter((e) => e.type !== 'comment').map((e) => e.type);
    expect(kinds.indexOf('rate')).toBe(got.length);

    // the same through the parameter, from the last notification: nothing is sent twice
    const lastNotification = String(ids[ids.length - 1]);
    viaHeader.close();
    const viaParam = await connect(alice, `&last_event_id=${lastNotification}`);
    await viaParam.next((e) => e.type === 'rate');
    expect(viaParam.ofType('notification')).toEqual([]);

    // not one of ours: 400, and the ticket is not used up by it
    const tk = await ticket(alice);
    const bad = await SseClient.open(base, `/stream?ticket=${tk}`, { 'last-event-id': 'abc' });
    await bad.ended;
    expect(bad.status).toBe(400);
    const retry = await SseClient.open(base, `/stream?ticket=${tk}`);
    open.push(retry);
    expect(retry.status).toBe(200);
  });

  it('caps open streams per user (429 TOO_MANY_STREAMS, ticket kept) and frees the slot on close', async () => {
    const carol = await createUser(t, 'carol');
    const streams = [await connect(carol), await connect(carol), await connect(carol)];
    for (const s of streams) await s.next((e) => e.type === 'rate');
    const tk = await ticket(carol);
    const refused = await SseClient.open(base, `/stream?ticket=${tk}`);
    await refused.ended;
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'TOO_MANY_STREAMS', statusCode: 429 });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // another user is not affected
    const other = await connect(bob);
    expect(other.status).toBe(200);
    streams[0].close();
    const service = t.app.get(StreamService);
    for (let i = 0; i < 50 && service.size > 3; i++) await new Promise((r) => setTimeout(r, 50));
    const again = await SseClient.open(base, `/stream?ticket=${tk}`);
    open.push(again);
    expect(again.status).toBe(200);
  });

  it('writes heartbeats, and ends the stream once its session is revoked or its user suspended', async () => {
    const dave = await createUser(t, 'dave');
    const s = await connect(dave);
    await s.next((e) => e.type === 'comment' && e.comment === 'heartbeat', 5_000);
    expect((await t.request('POST', '/logout', { token: dave.access })).statusCode).toBe(200);
    await endsWithin(s, 5_000);
    expect(s.isOpen).toBe(false);

    const erin = await createUser(t, 'erin');
    const admin = await createAdmin(t);
    const e = await connect(erin);
    await e.next((x) => x.type === 'rate');
    const pending = await ticket(erin);
    const suspended = await t.request('PUT', `/admin/users/${erin.id}/status`, {
      token: admin.access,
      body: { status: 'SUSPENDED' },
    });
    expect(suspended.statusCode).toBe(200);
    await endsWithin(e, 5_000);
    // a ticket of a session that ended (suspension revokes sessions) no longer opens a stream
    const late = await SseClient.open(base, `/stream?ticket=${pending}`);
    await late.ended;
    expect([401, 403]).toContain(late.status);
  });
});

describe('live stream at app close', () => {
  it('ends every open stream so the server can close', async () => {
    const t = await startTestApp();
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const address = t.app.getHttpServer().address();
    if (!address || typeof address === 'string') throw new Error('no port');
    const base = `http://127.0.0.1:${address.port}`;
    const u = await createUser(t, 'closer');
    const tk = (await t.request('POST', '/stream/ticket', { token: u.access })).json<{ ticket: string }>()
      .ticket;
    const s = await SseClient.open(base, `/stream?ticket=${tk}`);
    await s.next((e) => e.type === 'rate');
    const started = Date.now();
    await t.close();
    await s.ended;
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
