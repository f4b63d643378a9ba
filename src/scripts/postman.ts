import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { convert } from 'openapi-to-postmanv2';

/**
 * `npm run postman` writes postman/collection.json: a "Flow" folder (a scripted tour with tests:
 * register, log in and keep the tokens, the admin trusts three contributors, transaction records,
 * the reference rate and its own history, analytics and history, a deposit an admin confirms, a
 * quote and its conversion, offers and a take, a withdrawal paid out, alerts, watchlist,
 * notifications, logs) and an "API reference" folder generated from
 * openapi.json. `--check` fails when the committed collection is out of date (CI runs it).
 */
const ROOT = join(__dirname, '..', '..', '..');
const OUT = join(ROOT, 'postman', 'collection.json');

type Json = Record<string, unknown>;

interface Step {
  name: string;
  method: string;
  path: string;
  body?: Json;
  token?: 'a' | 'b' | 'c' | 'admin';
  /** Lines of the Postman test script (pm.* API). */
  tests: string[];
}

const json = (lines: string[]): string[] => ['const body = pm.response.json();', ...lines];
const status = (code: number): string =>
  `pm.test('status ${code}', () => pm.response.to.have.status(${code}));`;

/** The tour: every request checks its status and the fields a client relies on. */
const FLOW: Step[] = [
  ...(['A', 'B', 'C'] as const).map((who): Step => ({
    name: `Register user ${who}`,
    method: 'POST',
    path: '/user',
    body: { user_name: `{{user${who}}}`, password: '{{password}}' },
    tests: json([
      status(201),
      "pm.test('role USER', () => pm.expect(body.role).to.eql('USER'));",
      `pm.collectionVariables.set('id${who}', body.id);`,
    ]),
  })),
  {
    name: 'Log in as A (keeps the tokens)',
    method: 'POST',
    path: '/login',
    body: { user_name: '{{userA}}', password: '{{password}}' },
    tests: json([
      status(200),
      "pm.test('bearer tokens', () => { pm.expect(body.token_type).to.eql('Bearer'); pm.expect(body.access_token).to.be.a('string'); });",
      "pm.collectionVariables.set('tokenA', body.access_token);",
      "pm.collectionVariables.set('refreshA', body.refresh_token);",
    ]),
  },
  ...(['B', 'C'] as const).map((who): Step => ({
    name: `Log in as ${who}`,
    method: 'POST',
    path: '/login',
    body: { user_name: `{{user${who}}}`, password: '{{password}}' },
    tests: json([status(200), `pm.collectionVariables.set('token${who}', body.access_token);`]),
  })),
  {
    name: 'Log in as the admin (a fresh token)',
    method: 'POST',
    path: '/login',
    body: { user_name: '{{adminName}}', password: '{{adminPassword}}' },
    tests: json([status(200), "pm.collectionVariables.set('tokenAdmin', body.access_token);"]),
  },
  {
    name: 'Who am I (A): a new wallet is empty',
    method: 'GET',
    path: '/whoami',
    token: 'a',
    tests: json([
      status(200),
      "pm.test('user A, no money yet', () => { pm.expect(body.user_name).to.eql(pm.collectionVariables.get('userA')); pm.expect(body.usd_balance).to.eql(0); });",
      "pm.test('not established: its records would not move the reference yet', () => pm.expect(body.established).to.eql(false));",
    ]),
  },
  ...(['A', 'B', 'C'] as const).map((who): Step => ({
    name: `The admin trusts ${who} as a rate contributor (established at once)`,
    method: 'PUT',
    path: `/admin/users/{{id${who}}}/trust`,
    token: 'admin',
    body: { trusted: true, note: 'known exchange agent' },
    tests: json([
      status(200),
      "pm.test('established', () => { pm.expect(body.trusted).to.eql(true); pm.expect(body.established).to.eql(true); });",
    ]),
  })),
  ...(
    [
      ['a', 'A', 89500],
      ['b', 'B', 89600],
      ['c', 'C', 89400],
    ] as const
  ).map(([token, who, rate]): Step => ({
    name: `${who} records selling 10 USD at ${rate} (a record: no money moves)`,
    method: 'POST',
    path: '/transaction',
    token,
    body: { usd_amount: 10, lbp_amount: 10 * rate, usd_to_lbp: true },
    tests: json([
      status(201),
      "pm.test('accepted', () => pm.expect(body.message).to.eql('Transaction added successfully'));",
      `pm.test('rate', () => pm.expect(body.rate).to.eql(${rate}));`,
    ]),
  })),
  {
    name: 'My transactions',
    method: 'GET',
    path: '/transactions',
    token: 'a',
    tests: json([
      status(200),
      "pm.test('one', () => { pm.expect(body).to.have.length(1); pm.expect(body[0].rate).to.eql(89500); });",
      "pm.test('X-Total-Count', () => pm.expect(pm.response.headers.get('X-Total-Count')).to.eql('1'));",
    ]),
  },
  {
    name: 'Reference rate (public): the median over three contributors',
    method: 'GET',
    path: '/exchangeRate',
    tests: json([
      status(200),
      "pm.test('usd_to_lbp', () => pm.expect(body.usd_to_lbp).to.eql(89500));",
      "pm.test('three contributors', () => pm.expect(body.contributors.usd_to_lbp).to.eql(3));",
    ]),
  },
  {
    name: 'The reference’s own history (public): what /exchangeRate published, per minute',
    method: 'GET',
    path: '/exchangeRate/history?direction=usd_to_lbp&bucket=minute',
    tests: json([
      status(200),
      "pm.test('the last published value', () => { pm.expect(body.points.length).to.be.greaterThan(0); pm.expect(body.points[body.points.length - 1].mid).to.eql(89500); });",
    ]),
  },
  {
    name: 'The admin sets the official rate (e.g. the central bank’s)',
    method: 'PUT',
    path: '/admin/rates/official',
    token: 'admin',
    body: { usd_to_lbp: 89000, source: 'Banque du Liban' },
    tests: json([
      status(200),
      "pm.test('in force', () => { pm.expect(body.in_force).to.eql(true); pm.expect(body.lbp_to_usd).to.eql(89000); });",
    ]),
  },
  {
    name: 'The official rate and the street’s gap to it (public)',
    method: 'GET',
    path: '/exchangeRate/official',
    tests: json([
      status(200),
      "pm.test('official', () => pm.expect(body.usd_to_lbp).to.eql(89000));",
      "pm.test('gap: (89,500 - 89,000) / 89,000', () => pm.expect(body.gap_percent.usd_to_lbp).to.be.closeTo(0.5618, 0.0001));",
    ]),
  },
  {
    name: 'A webhook to a private address is refused (SSRF guard, 400)',
    method: 'POST',
    path: '/webhooks',
    token: 'a',
    body: { url: 'https://169.254.169.254/latest/meta-data/', events: ['notification'] },
    tests: json([status(400), "pm.test('the url', () => pm.expect(body.details[0].field).to.eql('url'));"]),
  },
  {
    name: 'A forecast needs 48 buckets of history (404 NO_DATA here)',
    method: 'GET',
    path: '/forecast/exchange-rate?direction=usd_to_lbp&bucket=hour&horizon=24',
    token: 'a',
    tests: json([status(404), "pm.test('code', () => pm.expect(body.code).to.eql('NO_DATA'));"]),
  },
  {
    name: 'Analytics',
    method: 'GET',
    path: '/analytics/exchange-rate?direction=usd_to_lbp',
    token: 'a',
    tests: json([
      status(200),
      "pm.test('three samples', () => pm.expect(body.total_transactions).to.eql(3));",
      "pm.test('min and max', () => { pm.expect(body.min_rate).to.eql(89400); pm.expect(body.max_rate).to.eql(89600); });",
    ]),
  },
  {
    name: 'History (hour buckets)',
    method: 'GET',
    path: '/history/exchange-rate?direction=usd_to_lbp&bucket=hour',
    token: 'a',
    tests: json([
      status(200),
      "pm.test('points', () => pm.expect(body.points.length).to.be.greaterThan(0));",
    ]),
  },
  {
    name: 'A deposits 100 USD (pending until an admin confirms)',
    method: 'POST',
    path: '/wallet/deposits',
    token: 'a',
    body: { currency: 'USD', amount: 100, reference: 'agent receipt 1' },
    tests: json([
      status(201),
      "pm.test('pending', () => pm.expect(body.status).to.eql('PENDING'));",
      "pm.collectionVariables.set('depositA', body.id);",
    ]),
  },
  {
    name: 'The admin confirms it',
    method: 'POST',
    path: '/admin/deposits/{{depositA}}/confirm',
    token: 'admin',
    body: { note: 'received' },
    tests: json([status(200), "pm.test('completed', () => pm.expect(body.status).to.eql('COMPLETED'));"]),
  },
  {
    name: 'B deposits 10,000,000 LBP',
    method: 'POST',
    path: '/wallet/deposits',
    token: 'b',
    body: { currency: 'LBP', amount: 10000000 },
    tests: json([status(201), "pm.collectionVariables.set('depositB', body.id);"]),
  },
  {
    name: 'The admin confirms it too',
    method: 'POST',
    path: '/admin/deposits/{{depositB}}/confirm',
    token: 'admin',
    tests: json([status(200)]),
  },
  {
    name: 'A’s wallet',
    method: 'GET',
    path: '/wallet',
    token: 'a',
    tests: json([status(200), "pm.test('100 USD', () => pm.expect(body.usd_balance).to.eql(100));"]),
  },
  {
    name: 'A asks the house for a quote: 10 USD to LBP',
    method: 'POST',
    path: '/quotes',
    token: 'a',
    body: { from_currency: 'USD', to_currency: 'LBP', from_amount: 10 },
    tests: json([
      status(201),
      "pm.test('the bid: the guard window’s lowest mid minus the spread', () => { pm.expect(body.reference_rate).to.eql(89500); pm.expect(body.rate).to.be.below(89500); });",
      "pm.collectionVariables.set('quoteId', body.id);",
    ]),
  },
  {
    name: 'A converts at the quote',
    method: 'POST',
    path: '/wallet/convert',
    token: 'a',
    body: { quote_id: '{{#quoteId}}' },
    tests: json([
      status(201),
      "pm.test('90 USD left', () => pm.expect(body.usd_balance).to.eql(90));",
      "pm.test('LBP received', () => pm.expect(body.lbp_balance).to.eql(body.to_amount));",
    ]),
  },
  {
    name: 'A quote converts once (409)',
    method: 'POST',
    path: '/wallet/convert',
    token: 'a',
    body: { quote_id: '{{#quoteId}}' },
    tests: json([status(409), "pm.test('code', () => pm.expect(body.code).to.eql('QUOTE_USED'));"]),
  },
  {
    name: 'A offers 20 USD for LBP (escrowed)',
    method: 'POST',
    path: '/market/offers',
    token: 'a',
    body: {
      give_currency: 'USD',
      give_amount: 20,
      want_currency: 'LBP',
      want_amount: 1790000,
      min_fill_amount: 5,
    },
    tests: json([
      status(201),
      "pm.test('open, escrowed', () => { pm.expect(body.status).to.eql('OPEN'); pm.expect(body.usd_held).to.eql(20); });",
      "pm.collectionVariables.set('offerId', body.id);",
    ]),
  },
  {
    name: 'B sees the offer',
    method: 'GET',
    path: '/market/offers',
    token: 'b',
    tests: json([
      status(200),
      "pm.test('listed', () => pm.expect(body.map((o) => o.id)).to.include(Number(pm.collectionVariables.get('offerId'))));",
    ]),
  },
  {
    name: 'B takes 5 USD of it',
    method: 'POST',
    path: '/market/offers/{{offerId}}/accept',
    token: 'b',
    body: { amount: 5 },
    tests: json([
      status(201),
      "pm.test('trade', () => { pm.expect(body.message).to.eql('Offer accepted'); pm.expect(body.trade.usd_amount).to.eql(5); pm.expect(body.trade.lbp_amount).to.eql(447500); });",
      "pm.test('15 USD left', () => pm.expect(body.offer.remaining_give_amount).to.eql(15));",
    ]),
  },
  {
    name: 'A cancels the rest',
    method: 'DELETE',
    path: '/market/offers/{{offerId}}',
    token: 'a',
    tests: json([
      status(200),
      "pm.test('refunded', () => { pm.expect(body.message).to.eql('Offer cancelled'); pm.expect(body.refunded_amount).to.eql(15); });",
    ]),
  },
  {
    name: 'A’s trades',
    method: 'GET',
    path: '/market/trades',
    token: 'a',
    tests: json([status(200), "pm.test('one, as seller', () => pm.expect(body[0].side).to.eql('seller'));"]),
  },
  {
    name: 'A withdraws 10 USD (held at once)',
    method: 'POST',
    path: '/wallet/withdrawals',
    token: 'a',
    body: { currency: 'USD', amount: 10, destination: 'agent, Hamra street' },
    tests: json([
      status(201),
      "pm.test('pending', () => pm.expect(body.status).to.eql('PENDING'));",
      "pm.collectionVariables.set('withdrawalA', body.id);",
    ]),
  },
  {
    name: 'The admin pays it out',
    method: 'POST',
    path: '/admin/withdrawals/{{withdrawalA}}/complete',
    token: 'admin',
    tests: json([status(200), "pm.test('completed', () => pm.expect(body.status).to.eql('COMPLETED'));"]),
  },
  {
    name: 'A sets an alert',
    method: 'POST',
    path: '/alerts',
    token: 'a',
    body: { direction: 'usd_to_lbp', condition: 'above', threshold: 95000 },
    tests: json([status(201), "pm.test('active', () => pm.expect(body.is_active).to.eql(true));"]),
  },
  {
    name: 'A watches a threshold',
    method: 'POST',
    path: '/watchlist',
    token: 'a',
    body: { item_type: 'threshold', direction: 'usd_to_lbp', condition: 'below', threshold: 80000 },
    tests: json([status(201)]),
  },
  {
    name: 'A’s watchlist',
    method: 'GET',
    path: '/watchlist',
    token: 'a',
    tests: json([
      status(200),
      "pm.test('current rate', () => pm.expect(body[0].current_rate).to.be.a('number'));",
    ]),
  },
  {
    name: 'A’s notifications (the deposit, the take, the payout)',
    method: 'GET',
    path: '/notifications',
    token: 'a',
    tests: json([
      status(200),
      "pm.test('events', () => pm.expect(body.map((n) => n.event_type)).to.include.members(['DEPOSIT_COMPLETED', 'OFFER_ACCEPTED', 'WITHDRAWAL_COMPLETED']));",
    ]),
  },
  {
    name: 'A’s audit log',
    method: 'GET',
    path: '/logs?limit=50',
    token: 'a',
    tests: json([
      status(200),
      "pm.test('own rows', () => { pm.expect(body.total).to.be.greaterThan(5); pm.expect(body.logs.map((l) => l.event_type)).to.include.members(['OFFER_CREATE', 'CONVERSION_CREATE']); });",
    ]),
  },
  {
    name: 'B cannot withdraw more USD than it holds (422)',
    method: 'POST',
    path: '/wallet/withdrawals',
    token: 'b',
    body: { currency: 'USD', amount: 5000, destination: 'somewhere' },
    tests: json([status(422), "pm.test('code', () => pm.expect(body.code).to.eql('INSUFFICIENT_BALANCE'));"]),
  },
];

/** A step's JSON body; '{{#name}}' is the variable as a JSON number (unquoted), '{{name}}' as text. */
function rawBody(body: Json): string {
  return JSON.stringify(body, null, 2).replace(/"\{\{#(\w+)\}\}"/g, '{{$1}}');
}

function flowItem(step: Step): Json {
  const [path, query] = step.path.split('?');
  const token =
    step.token === undefined
      ? undefined
      : `{{token${step.token === 'admin' ? 'Admin' : step.token.toUpperCase()}}}`;
  return {
    name: step.name,
    request: {
      method: step.method,
      header: step.body ? [{ key: 'Content-Type', value: 'application/json' }] : [],
      ...(token
        ? { auth: { type: 'bearer', bearer: [{ key: 'token', value: token, type: 'string' }] } }
        : {}),
      ...(step.body ? { body: { mode: 'raw', raw: rawBody(step.body) } } : {}),
      url: {
        raw: `{{baseUrl}}${step.path}`,
        host: ['{{baseUrl}}'],
        path: path.split('/').filter(Boolean),
        ...(query
          ? {
              query: query.split('&').map((kv) => ({ key: kv.split('=')[0], value: kv.split('=')[1] ?? '' })),
            }
          : {}),
      },
    },
    event: [{ listen: 'test', script: { type: 'text/javascript', exec: step.tests } }],
  };
}

/**
 * Drops the generator's random ids and its saved example responses (faked, so they differ on every
 * run; the responses are documented in openapi.json), so the file only changes when the API does.
 */
function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Json)
        .filter(([k]) => k !== 'id' && k !== '_postman_id' && k !== 'response')
        .map(([k, v]) => [k, stable(v)]),
    );
  }
  return value;
}

function generated(): Promise<Json> {
  return new Promise((resolve, reject) => {
    convert(
      { type: 'string', data: readFileSync(join(ROOT, 'openapi.json'), 'utf8') },
      {
        folderStrategy: 'Tags',
        // schema placeholders ("<number>"), not faked values: the file changes only when the API does
        requestParametersResolution: 'Schema',
        exampleParametersResolution: 'Schema',
        includeAuthInfoInExample: true,
      },
      (err, result) => {
        if (err) return reject(err);
        if (!result.result) return reject(new Error(result.reason ?? 'conversion failed'));
        resolve(result.output[0].data);
      },
    );
  });
}

export async function buildCollection(): Promise<string> {
  const reference = await generated();
  const collection = {
    info: {
      name: 'Exchange Rate & P2P Marketplace API',
      description:
        'Flow: a scripted tour with tests (run by `npm run test:postman` with newman). API reference: every route, generated from openapi.json.',
      schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json',
    },
    variable: [
      { key: 'baseUrl', value: 'http://127.0.0.1:5000' },
      { key: 'password', value: 'postman-password-1' },
      { key: 'userA', value: 'postman_a' },
      { key: 'userB', value: 'postman_b' },
      { key: 'userC', value: 'postman_c' },
      // an admin of the server the Flow runs against (npm run test:postman starts one with these)
      { key: 'adminName', value: 'postman_admin' },
      { key: 'adminPassword', value: 'postman-admin-password-1' },
      { key: 'tokenA', value: '' },
      { key: 'tokenB', value: '' },
      { key: 'tokenC', value: '' },
      { key: 'tokenAdmin', value: '' },
      { key: 'refreshA', value: '' },
      { key: 'depositA', value: '' },
      { key: 'depositB', value: '' },
      { key: 'quoteId', value: '' },
      { key: 'offerId', value: '' },
      { key: 'withdrawalA', value: '' },
    ],
    item: [
      { name: 'Flow', item: FLOW.map(flowItem) },
      { name: 'API reference', item: stable((reference as { item: unknown }).item) },
    ],
  };
  return `${JSON.stringify(collection, null, 2)}\n`;
}

async function main(): Promise<void> {
  const text = await buildCollection();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(OUT, 'utf8');
    } catch {
      // missing counts as out of date
    }
    if (current !== text) {
      console.error('postman/collection.json is out of date: run `npm run postman` and commit it');
      process.exit(1);
    }
    console.log('postman/collection.json is up to date');
    return;
  }
  writeFileSync(OUT, text);
  console.log(`wrote ${OUT}`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
