import { DataSource } from 'typeorm';
import { WebhookDeliveryEntity } from '../src/webhooks/webhook-delivery.entity';
import { WebhookEndpointEntity } from '../src/webhooks/webhook-endpoint.entity';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUTH_MATRIX, IDENTITIES, type Identity, type Outcome, satisfies } from './auth-matrix';
import { algNoneToken, decodeJwt, signClaims } from './factories/tokens';
import { createAdmin, createUser, login, type TestUser, uniqueName } from './factories/users';
import { ROUTES, type RouteKey, routeKey, servedRoutes } from './route-table';
import { startTestApp, type TestApp } from './test-app';

jest.setTimeout(120_000);

type TokenKind = 'access' | 'refresh';

/** How one identity calls: which bearer token it presents, and which credentials it logs in with. */
interface Caller {
  credentials: { user_name: string; password: string };
  /** `throwaway`: a new session of the same identity, for routes that end or rotate a session. */
  token(kind: TokenKind, throwaway: boolean): Promise<string | undefined>;
}

/** The request one route gets: concrete URL, body, and whether it must use a throwaway session. */
interface Call {
  url: string;
  body?: unknown;
  throwaway?: boolean;
}
type Builder = (c: Caller) => Call;

/** Ids of the objects the :id routes name. */
interface Ids {
  victim: number; // a plain user the admin routes act on
  sample: number; // a rate sample
  notifRead: number; // user's notifications
  notifDelete: number;
  alert: number; // user's alert
  victimAlert: number;
  watch: number; // user's watchlist item
  closedOffer: number; // user's cancelled offer
  openOffer: number; // user's open offer (to cancel)
  takeOffer: number; // user's open offer (to take)
  victimOffer: number;
  deposit: number; // user's pending deposit (to cancel)
  withdrawal: number; // user's pending withdrawal (to cancel)
  victimDeposits: [number, number]; // to confirm, to reject
  victimWithdrawals: [number, number]; // to complete, to reject
  webhook: number; // user's webhook
  webhookToDelete: number; // another one (DELETE is played before the others)
  webhookDelivery: number; // its FAILED delivery (to retry)
}

const OFFER = { give_currency: 'USD', give_amount: 1, want_currency: 'LBP', want_amount: 90_000 };
const SPARE_PASSWORD = 'matrix-password-1';
let watchSeq = 0;

/** One request per route; `satisfies` makes tsc fail when a route of the table has none. */
function requests(ids: Ids) {
  const get =
    (url: string): Builder =>
    () => ({ url });
  return {
    'GET /health': get('/health'),
    'GET /health/live': get('/health/live'),
    'GET /health/ready': get('/health/ready'),
    'GET /metrics': get('/metrics'),
    // without a ticket: 400, whoever calls (the ticket, not a token, admits a stream)
    'GET /stream': get('/stream'),
    'POST /stream/ticket': () => ({ url: '/stream/ticket' }),
    'POST /user': () => ({
      url: '/user',
      body: { user_name: uniqueName('mx'), password: SPARE_PASSWORD },
    }),
    'POST /login': (c) => ({ url: '/login', body: c.credentials }),
    'POST /authentication': (c) => ({ url: '/authentication', body: c.credentials }),
    'POST /refresh': () => ({ url: '/refresh', throwaway: true }),
    'POST /logout': () => ({ url: '/logout', throwaway: true }),
    'POST /logout_refresh': () => ({ url: '/logout_refresh', throwaway: true }),
    'POST /auth/fresh': (c) => ({ url: '/auth/fresh', body: { password: c.credentials.password } }),
    'GET /whoami': get('/whoami'),
    // A new password that fails validation (after auth): nobody's password or sessions change.
    'PUT /user/password': (c) => ({
      url: '/user/password',
      body: { current_password: c.credentials.password, new_password: 'short' },
    }),
    'GET /preferences': get('/preferences'),
    'PUT /preferences': () => ({
      url: '/preferences',
      body: { default_range_hours: 48, default_bucket: 'hour' },
    }),
    'GET /logs': get('/logs'),
    'GET /admin/logs': get('/admin/logs'),
    'GET /admin/logs/export': get('/admin/logs/export'),
    'POST /admin/backup': () => ({ url: '/admin/backup' }),
    'GET /admin/backup/status': get('/admin/backup/status'),
    // An invalid file name: refused by validation after auth, so nothing is ever restored.
    'POST /admin/restore': () => ({ url: '/admin/restore', body: { filename: '../auth-matrix' } }),
    'GET /admin/users': get('/admin/users'),
    // Setting the (already ACTIVE) victim ACTIVE, and USER: a real success that changes nothing.
    'PUT /admin/users/:id/status': () => ({
      url: `/admin/users/${ids.victim}/status`,
      body: { status: 'ACTIVE' },
    }),
    'PUT /admin/users/:id/role': () => ({
      url: `/admin/users/${ids.victim}/role`,
      body: { role: 'USER' },
    }),
    // Distrusting the victim: a real success that changes no balance (it has no samples).
    'PUT /admin/users/:id/trust': () => ({
      url: `/admin/users/${ids.victim}/trust`,
      body: { trusted: false, note: 'auth matrix' },
    }),
    'GET /admin/users/:id/preferences': get(`/admin/users/${ids.victim}/preferences`),
    'PUT /admin/users/:id/preferences': () => ({
      url: `/admin/users/${ids.victim}/preferences`,
      body: { default_range_hours: 24 },
    }),
    'GET /wallet': get('/wallet'),
    'GET /wallet/ledger': get('/wallet/ledger'),
    'POST /admin/users/:id/wallet/adjust': () => ({
      url: `/admin/users/${ids.victim}/wallet/adjust`,
      body: { currency: 'USD', amount: 5, reason: 'auth matrix' },
    }),
    'GET /admin/ledger/verify': get('/admin/ledger/verify'),
    'POST /wallet/deposits': () => ({ url: '/wallet/deposits', body: { currency: 'USD', amount: 1 } }),
    'GET /wallet/deposits': get('/wallet/deposits'),
    'DELETE /wallet/deposits/:id': () => ({ url: `/wallet/deposits/${ids.deposit}` }),
    'POST /wallet/withdrawals': () => ({
      url: '/wallet/withdrawals',
      body: { currency: 'USD', amount: 1, destination: 'auth matrix account' },
    }),
    'GET /wallet/withdrawals': get('/wallet/withdrawals'),
    'DELETE /wallet/withdrawals/:id': () => ({ url: `/wallet/withdrawals/${ids.withdrawal}` }),
    'GET /admin/deposits': get('/admin/deposits'),
    'GET /admin/withdrawals': get('/admin/withdrawals'),
    'POST /admin/deposits/:id/confirm': () => ({ url: `/admin/deposits/${ids.victimDeposits[0]}/confirm` }),
    'POST /admin/deposits/:id/reject': () => ({ url: `/admin/deposits/${ids.victimDeposits[1]}/reject` }),
    'POST /admin/withdrawals/:id/complete': () => ({
      url: `/admin/withdrawals/${ids.victimWithdrawals[0]}/complete`,
    }),
    'POST /admin/withdrawals/:id/reject': () => ({
      url: `/admin/withdrawals/${ids.victimWithdrawals[1]}/reject`,
    }),
    // no reference rate in this database: 422 NO_QUOTE once past auth
    'POST /quotes': () => ({
      url: '/quotes',
      body: { from_currency: 'USD', to_currency: 'LBP', from_amount: 1 },
    }),
    // an unknown quote: 404 once past auth
    'POST /wallet/convert': () => ({ url: '/wallet/convert', body: { quote_id: 2_000_000_000 } }),
    'GET /wallet/conversions': get('/wallet/conversions'),
    'GET /admin/house': get('/admin/house'),
    'POST /transaction': () => ({
      url: '/transaction',
      body: { usd_amount: 1, lbp_amount: 90_000, usd_to_lbp: true },
    }),
    'GET /transactions': get('/transactions'),
    'GET /transaction': get('/transaction'),
    'GET /transactions/export': get('/transactions/export'),
    'GET /exchangeRate': get('/exchangeRate'),
    'GET /exchangeRate/history': get('/exchangeRate/history?direction=mid'),
    'GET /exchangeRate/official': get('/exchangeRate/official'),
    // an http target on this host: refused by validation (400) once past auth
    'POST /webhooks': () => ({
      url: '/webhooks',
      body: { url: 'http://127.0.0.1:9/x', events: ['notification'] },
    }),
    'GET /webhooks': get('/webhooks'),
    'DELETE /webhooks/:id': () => ({ url: `/webhooks/${ids.webhookToDelete}` }),
    'POST /webhooks/:id/rotate-secret': () => ({ url: `/webhooks/${ids.webhook}/rotate-secret` }),
    'GET /webhooks/:id/deliveries': get(`/webhooks/${ids.webhook}/deliveries`),
    'POST /webhooks/:id/deliveries/:delivery_id/retry': () => ({
      url: `/webhooks/${ids.webhook}/deliveries/${ids.webhookDelivery}/retry`,
    }),
    'POST /webhooks/:id/test': () => ({ url: `/webhooks/${ids.webhook}/test` }),
    'GET /exchangeRate/official/history': get('/exchangeRate/official/history'),
    // no samples in this database: 404 NO_DATA once past auth
    'GET /forecast/exchange-rate': get('/forecast/exchange-rate?direction=usd_to_lbp&bucket=day&horizon=7'),
    // a real success that only adds an entry to the official series (the auth matrix's own source)
    'PUT /admin/rates/official': () => ({
      url: '/admin/rates/official',
      body: { usd_to_lbp: 89_500, source: 'auth matrix' },
    }),
    'GET /analytics/exchange-rate': get('/analytics/exchange-rate?direction=usd_to_lbp'),
    'GET /history/exchange-rate': get('/history/exchange-rate?direction=usd_to_lbp'),
    'GET /reports/summary': get('/reports/summary'),
    'GET /admin/stats/transactions': get('/admin/stats/transactions'),
    'GET /admin/reports/summary': get('/admin/reports/summary'),
    'POST /admin/rates': () => ({
      url: '/admin/rates',
      body: { direction: 'usd_to_lbp', rate: 90_000, usd_volume: 10 },
    }),
    'POST /admin/rates/import': () => ({
      url: '/admin/rates/import',
      body: [{ direction: 'usd_to_lbp', rate: 90_000 }],
    }),
    'PATCH /admin/rates/:id': () => ({
      url: `/admin/rates/${ids.sample}`,
      body: { is_outlier: false, reason: 'auth matrix' },
    }),
    'GET /admin/data-quality': get('/admin/data-quality'),
    'GET /notifications': get('/notifications'),
    'GET /notifications/unread-count': get('/notifications/unread-count'),
    'PATCH /notifications/read-all': () => ({ url: '/notifications/read-all' }),
    'PATCH /notifications/:id/read': () => ({ url: `/notifications/${ids.notifRead}/read` }),
    'DELETE /notifications/:id': () => ({ url: `/notifications/${ids.notifDelete}` }),
    'POST /alerts': () => ({
      url: '/alerts',
      body: { direction: 'usd_to_lbp', condition: 'above', threshold: 900_000_000 },
    }),
    'GET /alerts': get('/alerts'),
    'GET /alerts/triggered': get('/alerts/triggered'),
    'DELETE /alerts/:id': () => ({ url: `/alerts/${ids.alert}` }),
    'GET /admin/users/:id/alerts': get(`/admin/users/${ids.victim}/alerts`),
    'DELETE /admin/alerts/:id': () => ({ url: `/admin/alerts/${ids.victimAlert}` }),
    'POST /market/offers': () => ({ url: '/market/offers', body: OFFER }),
    'GET /market/offers': get('/market/offers'),
    'GET /market/offers/mine': get('/market/offers/mine'),
    'GET /market/offers/:id': get(`/market/offers/${ids.closedOffer}`),
    'DELETE /market/offers/:id': () => ({ url: `/market/offers/${ids.openOffer}` }),
    'POST /market/offers/:id/accept': () => ({ url: `/market/offers/${ids.takeOffer}/accept` }),
    'GET /market/trades': get('/market/trades'),
    'DELETE /admin/market/offers/:id': () => ({ url: `/admin/market/offers/${ids.victimOffer}` }),
    'POST /watchlist': () => ({
      url: '/watchlist',
      body: {
        item_type: 'threshold',
        direction: 'usd_to_lbp',
        condition: 'above',
        threshold: 100_000 + ++watchSeq,
      },
    }),
    'GET /watchlist': get('/watchlist'),
    'DELETE /watchlist/:id': () => ({ url: `/watchlist/${ids.watch}` }),
  } satisfies Record<RouteKey, Builder>;
}

/** The error code a refusal must carry (the status alone could come from another check). */
function expectedCode(who: Identity, outcome: Outcome): string | undefined {
  if (outcome === 401) {
    return { anonymous: 'UNAUTHORIZED', expired: 'TOKEN_EXPIRED', alg_none: 'INVALID_TOKEN' }[
      who as 'anonymous' | 'expired' | 'alg_none'
    ];
  }
  if (outcome === 403) {
    if (who === 'suspended') return 'ACCOUNT_INACTIVE';
    if (who === 'admin_not_fresh') return 'FRESH_TOKEN_REQUIRED';
    if (who === 'user' || who === 'other_user') return 'FORBIDDEN_ROLE';
  }
  return undefined;
}

/** Identities in the order each route is played: the owner last, after the strangers' 404s. */
const PLAY_ORDER: Identity[] = [
  'anonymous',
  'expired',
  'alg_none',
  'suspended',
  'other_user',
  'admin_not_fresh',
  'admin',
  'user',
];

/** Routes played after all others (none should change shared state with the bodies above). */
const LAST: RouteKey[] = ['POST /admin/restore'];

interface Cell {
  route: RouteKey;
  who: Identity;
  expected: Outcome;
  status: number;
  code?: string;
}

describe('authorization matrix: every route × 8 identities', () => {
  let t: TestApp;
  let dir: string;
  let admin: TestUser;
  let user: TestUser;
  let other: TestUser;
  let suspended: TestUser;
  let spare: TestUser;
  let ids: Ids;
  const callers = {} as Record<Identity, Caller>;
  const cells: Cell[] = [];

  const session = (u: TestUser) => login(t, u.userName, u.password);

  /** A non-fresh session of `u`: the pair POST /refresh returns. */
  async function staleSession(u: TestUser): Promise<{ access: string; refresh: string }> {
    const s = await session(u);
    const res = await t.request('POST', '/refresh', { token: s.refresh });
    expect(res.statusCode).toBe(200);
    const b = res.json<{ access_token: string; refresh_token: string }>();
    return { access: b.access_token, refresh: b.refresh_token };
  }

  /** POST with `u`'s token, expecting 2xx; returns the body's id. */
  async function create(u: TestUser, url: string, body?: unknown): Promise<number> {
    const res = await t.request('POST', url, { token: u.access, body });
    expect({ url, ok: res.statusCode >= 200 && res.statusCode < 300, body: res.body }).toMatchObject({
      url,
      ok: true,
    });
    return res.json<{ id: number }>().id;
  }

  function loggedIn(u: TestUser): Caller {
    return {
      credentials: { user_name: u.userName, password: u.password },
      token: async (kind, throwaway) => (throwaway ? (await session(u))[kind] : u[kind]),
    };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'auth-matrix-'));
    t = await startTestApp({
      BACKUP_DIR: dir,
      STARTING_BALANCE_USD: '1000',
      STARTING_BALANCE_LBP: '90000000',
      OFFER_RATE_LIMIT: '100000',
      TRANSACTION_RATE_LIMIT: '100000',
    });
    admin = await createAdmin(t);
    user = await createUser(t, 'mx_user');
    other = await createUser(t, 'mx_other');
    suspended = await createUser(t, 'mx_susp');
    spare = await createUser(t, 'mx_spare', SPARE_PASSWORD);
    const victim = await createUser(t, 'mx_victim');

    // The user's private objects.
    const alert = await create(user, '/alerts', {
      direction: 'usd_to_lbp',
      condition: 'above',
      threshold: 900_000_000,
    });
    const watch = await create(user, '/watchlist', { item_type: 'direction', direction: 'usd_to_lbp' });
    const closedOffer = await create(user, '/market/offers', OFFER);
    const cancel = await t.request('DELETE', `/market/offers/${closedOffer}`, { token: user.access });
    expect(cancel.statusCode).toBe(200);
    const openOffer = await create(user, '/market/offers', OFFER);
    const takeOffer = await create(user, '/market/offers', OFFER);
    // Two offers taken by the other user: each notifies the user (the maker).
    for (let i = 0; i < 2; i += 1) {
      const id = await create(user, '/market/offers', OFFER);
      await create(other, `/market/offers/${id}/accept`);
    }
    const inbox = await t.request('GET', '/notifications', { token: user.access });
    const notifs = inbox.json<{ id: number; event_type: string }[]>();
    const accepted = notifs.filter((n) => n.event_type === 'OFFER_ACCEPTED').map((n) => n.id);
    expect(accepted).toHaveLength(2);

    // The victim's objects, for the admin routes.
    const victimAlert = await create(victim, '/alerts', {
      direction: 'lbp_to_usd',
      condition: 'below',
      threshold: 1,
    });
    const victimOffer = await create(victim, '/market/offers', OFFER);
    const sample = await create(admin, '/admin/rates', { direction: 'usd_to_lbp', rate: 90_000 });
    const deposit = await create(user, '/wallet/deposits', { currency: 'USD', amount: 5 });
    const payout = { currency: 'USD', amount: 5, destination: 'auth matrix account' };
    const withdrawal = await create(user, '/wallet/withdrawals', payout);
    const victimDeposits: [number, number] = [
      await create(victim, '/wallet/deposits', { currency: 'USD', amount: 5 }),
      await create(victim, '/wallet/deposits', { currency: 'USD', amount: 5 }),
    ];
    const victimWithdrawals: [number, number] = [
      await create(victim, '/wallet/withdrawals', payout),
      await create(victim, '/wallet/withdrawals', payout),
    ];

    // The user's webhook (written straight to the database: this app allows no private or http
    // target, and no public host resolves here) and a FAILED delivery of it.
    const ds = t.app.get(DataSource);
    const now = new Date();
    const webhook = Number(
      (
        await ds.getRepository(WebhookEndpointEntity).insert({
          userId: user.id,
          url: 'https://hooks.example.invalid/matrix',
          events: 'notification',
          secret: 'whsec_bWF0cml4LXNlY3JldC1ieXRlcy0wMTIz',
          previousSecret: null,
          previousSecretUntil: null,
          status: 'ACTIVE',
          disabledReason: null,
          failingSince: null,
          createdAt: now,
          updatedAt: now,
        })
      ).identifiers[0].id,
    );
    const webhookToDelete = Number(
      (
        await ds.getRepository(WebhookEndpointEntity).insert({
          userId: user.id,
          url: 'https://hooks.example.invalid/matrix-2',
          events: 'notification',
          secret: 'whsec_bWF0cml4LXNlY3JldC1ieXRlcy0wMTIz',
          previousSecret: null,
          previousSecretUntil: null,
          status: 'ACTIVE',
          disabledReason: null,
          failingSince: null,
          createdAt: now,
          updatedAt: now,
        })
      ).identifiers[0].id,
    );
    const webhookDelivery = Number(
      (
        await ds.getRepository(WebhookDeliveryEntity).insert({
          endpointId: webhook,
          eventId: 'msg_00000000000000000000000000matrix',
          eventType: 'ping',
          payload: '{}',
          status: 'FAILED',
          attempts: 8,
          nextAttemptAt: null,
          lastStatusCode: 500,
          lastError: 'HTTP 500',
          claimedBy: null,
          claimedUntil: null,
          createdAt: now,
          deliveredAt: null,
        })
      ).identifiers[0].id,
    );

    ids = {
      webhook,
      webhookToDelete,
      webhookDelivery,
      victim: victim.id,
      sample,
      notifRead: accepted[0],
      notifDelete: accepted[1],
      alert,
      victimAlert,
      watch,
      closedOffer,
      openOffer,
      takeOffer,
      victimOffer,
      deposit,
      withdrawal,
      victimDeposits,
      victimWithdrawals,
    };

    // Suspended after logging in: the tokens worked, then the admin suspends the account.
    expect((await t.request('GET', '/whoami', { token: suspended.access })).statusCode).toBe(200);
    const susp = await t.request('PUT', `/admin/users/${suspended.id}/status`, {
      token: admin.access,
      body: { status: 'SUSPENDED' },
    });
    expect(susp.statusCode).toBe(200);

    const stale = await staleSession(admin);
    const nowS = Math.floor(Date.now() / 1000);
    const expired = (token: string): string =>
      signClaims(t.config.auth.jwtSecret, {
        ...decodeJwt(token).payload,
        iat: nowS - 7200,
        exp: nowS - 3600,
      });
    const spareCreds = { user_name: spare.userName, password: spare.password };

    callers.anonymous = { credentials: spareCreds, token: () => Promise.resolve(undefined) };
    callers.user = loggedIn(user);
    callers.other_user = loggedIn(other);
    callers.admin = loggedIn(admin);
    callers.admin_not_fresh = {
      credentials: { user_name: admin.userName, password: admin.password },
      token: async (kind, throwaway) => (throwaway ? await staleSession(admin) : stale)[kind],
    };
    callers.expired = {
      credentials: spareCreds,
      token: (kind) => Promise.resolve(expired(admin[kind])),
    };
    callers.alg_none = {
      credentials: spareCreds,
      token: (kind) => Promise.resolve(algNoneToken(admin[kind])),
    };
    // No new session can be had: the tokens from before the suspension.
    callers.suspended = {
      credentials: { user_name: suspended.userName, password: suspended.password },
      token: (kind) => Promise.resolve(suspended[kind]),
    };
  });

  afterAll(async () => {
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the table covers exactly the routes the app serves, with every identity', () => {
    const fastify = t.app.getHttpAdapter().getInstance();
    const served = servedRoutes(fastify.printRoutes({ commonPrefix: false }));
    expect(AUTH_MATRIX.map((r) => routeKey(r.method, r.path)).sort()).toEqual(served);
    expect(new Set(PLAY_ORDER)).toEqual(new Set(IDENTITIES));
  });

  it('plays every cell: the status matches the table, and no refusal is a 2xx', async () => {
    const build = requests(ids);
    const rows = [...AUTH_MATRIX].sort(
      (a, b) =>
        Number(LAST.includes(routeKey(a.method, a.path))) - Number(LAST.includes(routeKey(b.method, b.path))),
    );
    for (const row of rows) {
      const key = routeKey(row.method, row.path);
      for (const who of PLAY_ORDER) {
        const caller = callers[who];
        const call: Call = build[key](caller);
        const kind: TokenKind = row.policy === 'refresh' ? 'refresh' : 'access';
        const token = await caller.token(kind, call.throwaway === true);
        const res = await t.request(row.method, call.url, { token, body: call.body });
        let code: string | undefined;
        try {
          code = res.json<{ code?: string }>().code;
        } catch {
          code = undefined; // CSV and other non-JSON bodies
        }
        cells.push({ route: key, who, expected: row.expected[who], status: res.statusCode, code });
      }
    }

    expect(cells).toHaveLength(ROUTES.length * IDENTITIES.length);
    const show = (c: Cell) =>
      `${c.route} as ${c.who}: expected ${c.expected}, got ${c.status}${c.code ? ` ${c.code}` : ''}`;
    const refused = (o: Outcome) => typeof o === 'number';
    // GET /metrics checks its own credential, whatever the JWT says
    const codeFor = (c: Cell) =>
      !refused(c.expected)
        ? undefined
        : c.route === 'GET /metrics'
          ? 'METRICS_TOKEN_REQUIRED'
          : expectedCode(c.who, c.expected);
    const unexpected2xx = cells
      .filter((c) => refused(c.expected) && c.status >= 200 && c.status < 300)
      .map(show);
    const mismatches = cells
      .filter((c) => {
        if (!satisfies(c.expected, c.status)) return true;
        const code = codeFor(c);
        return code !== undefined && c.code !== code;
      })
      .map((c) => {
        const code = codeFor(c);
        return code && c.status === c.expected ? `${show(c)} (code should be ${code})` : show(c);
      });
    if (mismatches.length > 0) console.log(`auth matrix mismatches:\n${mismatches.join('\n')}`);
    expect(unexpected2xx).toEqual([]);
    expect(mismatches).toEqual([]);
  });

  it("the 'allowed' cells really reach the handlers: most of them succeed", () => {
    const allowed = cells.filter((c) => c.expected === 'allowed' || c.expected === 'ok');
    const succeeded = allowed.filter((c) => c.status >= 200 && c.status < 300);
    // Bodies are valid where that is easy; 400 (PUT /user/password, restore), 404/409/422 (an object
    // already taken or deleted by an earlier identity) account for the rest.
    expect(allowed.length).toBeGreaterThan(0);
    expect(succeeded.length / allowed.length).toBeGreaterThan(0.8);
  });
});
