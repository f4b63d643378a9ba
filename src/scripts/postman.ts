import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { convert } from 'openapi-to-postmanv2';

/**
 * `npm run postman` writes postman/collection.json: a "Flow" folder (a scripted tour with tests:
 * register, log in and keep the tokens, transactions, rates, analytics and history, offers and a
 * take, alerts, watchlist, notifications, logs) and an "API reference" folder generated from
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
  token?: 'a' | 'b';
  /** Lines of the Postman test script (pm.* API). */
  tests: string[];
}

const json = (lines: string[]): string[] => ['const body = pm.response.json();', ...lines];
const status = (code: number): string =>
  `pm.test('status ${code}', () => pm.response.to.have.status(${code}));`;

/** The tour: every request checks its status and the fields a client relies on. */
const FLOW: Step[] = [
  {
    name: 'Register user A',
    method: 'POST',
    path: '/user',
    body: { user_name: '{{userA}}', password: '{{password}}' },
    tests: json([status(201), "pm.test('role USER', () => pm.expect(body.role).to.eql('USER'));"]),
  },
  {
    name: 'Register user B',
    method: 'POST',
    path: '/user',
    body: { user_name: '{{userB}}', password: '{{password}}' },
    tests: json([status(201)]),
  },
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
  {
    name: 'Log in as B',
    method: 'POST',
    path: '/login',
    body: { user_name: '{{userB}}', password: '{{password}}' },
    tests: json([status(200), "pm.collectionVariables.set('tokenB', body.access_token);"]),
  },
  {
    name: 'Who am I (A)',
    method: 'GET',
    path: '/whoami',
    token: 'a',
    tests: json([
      status(200),
      "pm.test('user A with balances', () => { pm.expect(body.user_name).to.eql(pm.collectionVariables.get('userA')); pm.expect(body.usd_balance).to.be.a('number'); });",
    ]),
  },
  ...[89500, 89600, 89400].map((rate, i): Step => ({
    name: `Transaction ${i + 1}: A sells 10 USD at ${rate}`,
    method: 'POST',
    path: '/transaction',
    token: 'a',
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
      "pm.test('three, newest first', () => { pm.expect(body).to.have.length(3); pm.expect(body[0].rate).to.eql(89400); });",
      "pm.test('X-Total-Count', () => pm.expect(pm.response.headers.get('X-Total-Count')).to.eql('3'));",
    ]),
  },
  {
    name: 'Market rate (public)',
    method: 'GET',
    path: '/exchangeRate',
    tests: json([status(200), "pm.test('usd_to_lbp', () => pm.expect(body.usd_to_lbp).to.be.a('number'));"]),
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
    name: 'A’s notifications (the take)',
    method: 'GET',
    path: '/notifications',
    token: 'a',
    tests: json([
      status(200),
      "pm.test('offer accepted', () => pm.expect(body.map((n) => n.event_type)).to.include('OFFER_ACCEPTED'));",
    ]),
  },
  {
    name: 'A’s audit log',
    method: 'GET',
    path: '/logs?limit=50',
    token: 'a',
    tests: json([
      status(200),
      "pm.test('own rows', () => { pm.expect(body.total).to.be.greaterThan(5); pm.expect(body.logs.map((l) => l.event_type)).to.include('OFFER_CREATE'); });",
    ]),
  },
  {
    name: 'B cannot sell more USD than it holds (422)',
    method: 'POST',
    path: '/transaction',
    token: 'b',
    body: { usd_amount: 1000000, lbp_amount: 89500000000, usd_to_lbp: true },
    tests: json([status(422), "pm.test('code', () => pm.expect(body.code).to.eql('INSUFFICIENT_BALANCE'));"]),
  },
];

function flowItem(step: Step): Json {
  const [path, query] = step.path.split('?');
  const token = step.token === 'a' ? '{{tokenA}}' : step.token === 'b' ? '{{tokenB}}' : undefined;
  return {
    name: step.name,
    request: {
      method: step.method,
      header: step.body ? [{ key: 'Content-Type', value: 'application/json' }] : [],
      ...(token
        ? { auth: { type: 'bearer', bearer: [{ key: 'token', value: token, type: 'string' }] } }
        : {}),
      ...(step.body ? { body: { mode: 'raw', raw: JSON.stringify(step.body, null, 2) } } : {}),
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
      { key: 'tokenA', value: '' },
      { key: 'tokenB', value: '' },
      { key: 'refreshA', value: '' },
      { key: 'offerId', value: '' },
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
