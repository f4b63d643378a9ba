import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { loadConfigFromProcess } from '../src/config/app-config';
import {
  alternating,
  type CannonRequest,
  cannon,
  CLIENTS,
  type Latency,
  pairedRatio,
  quietMachine,
  roundsText,
  SECONDS,
  startServer,
  type Throughput,
  WARMUP_SECONDS,
  benchConfig,
} from './harness';

/**
 * `npm run bench:flask`: the built API side by side with the seed's Flask app (the app this project
 * replaces), both against the same database server, in one run: the routes the seed's dashboard
 * calls, each in alternating rounds (ours, then Flask right after) with CLIENTS connections.
 *
 * The Flask app is not part of this repository: run it yourself (README, "The seed's Flask app side
 * by side") with gunicorn on a fresh database, and point FLASK_URL at it. Ours runs as `npm start`
 * runs it (one Node process), on a fresh `<DB_NAME>_bench` database (or data/bench.sqlite).
 *
 * Both sides hash passwords with bcrypt cost FLASK_BCRYPT_ROUNDS (default 12, Flask-Bcrypt's default
 * and ours). Writes docs/FLASK-COMPARISON.md (MariaDB/MySQL) or docs/FLASK-COMPARISON-sqlite.md.
 * Not a test: numbers, not assertions.
 */
const FLASK_URL = (process.env.FLASK_URL ?? '').replace(/\/+$/, '');
const FLASK_ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BCRYPT_ROUNDS = Number(process.env.FLASK_BCRYPT_ROUNDS ?? 12);
const FLASK_WORKERS = process.env.FLASK_WORKERS ?? '2 sync workers';
/** What the Flask side is, for the report (e.g. which commit of the seed). */
const FLASK_NOTE = process.env.FLASK_NOTE ?? "the seed's app";
/** The reader's records: one full page of ours (the default limit, 50), all of the seed's list. */
const RECORDS = 50;
const RATE = 89_500;
const PASSWORD = 'bench-password-1';

interface Side {
  name: string;
  base: string;
  /** Registers and logs in a user; its bearer token. */
  user(name: string): Promise<string>;
  list: string;
  login: string;
  created: number;
}

async function json(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function call(base: string, path: string, body: unknown, token?: string): Promise<unknown> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const out = await json(res);
  if (res.status >= 300)
    throw new Error(`POST ${base}${path} answered ${res.status}: ${JSON.stringify(out)}`);
  return out;
}

async function listLength(base: string, path: string, token: string): Promise<number> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const out = await json(res);
  if (res.status !== 200 || !Array.isArray(out))
    throw new Error(`GET ${base}${path} answered ${res.status}: ${JSON.stringify(out).slice(0, 300)}`);
  return out.length;
}

async function main(): Promise<void> {
  if (FLASK_URL === '') {
    throw new Error(
      'FLASK_URL is not set: start the seed\'s Flask app (README, "The seed\'s Flask app side by side") and set FLASK_URL=http://127.0.0.1:5000',
    );
  }
  const probe = await fetch(`${FLASK_URL}/exchangeRate`).catch((e: unknown) => {
    throw new Error(`the Flask app at ${FLASK_URL} cannot be reached: ${String(e)}`);
  });
  if (probe.status !== 200) throw new Error(`GET ${FLASK_URL}/exchangeRate answered ${probe.status}`);
  await probe.arrayBuffer();

  const base = await benchConfig(loadConfigFromProcess());
  const config = { ...base, auth: { ...base.auth, bcryptRounds: BCRYPT_ROUNDS } };
  const log = (s: string) => console.log(`[bench:flask] ${s}`);
  const server = await startServer(config, 'api', { MIGRATIONS_RUN: 'true', REGISTER_RATE_LIMIT: '100000' });
  try {
    const suffix = Date.now() % 1_000_000;
    const ours: Side = {
      name: 'ours',
      base: server.base,
      user: async (name) => {
        await call(server.base, '/user', { user_name: name, password: PASSWORD });
        return (
          (await call(server.base, '/login', { user_name: name, password: PASSWORD })) as {
            access_token: string;
          }
        ).access_token;
      },
      list: '/transactions',
      login: '/login',
      created: 201,
    };
    const flask: Side = {
      name: 'Flask',
      base: FLASK_URL,
      user: async (name) => {
        await call(FLASK_URL, '/user', { user_name: name, password: PASSWORD });
        return (
          (await call(FLASK_URL, '/authentication', { user_name: name, password: PASSWORD })) as {
            token: string;
          }
        ).token;
      },
      list: '/transaction',
      login: '/authentication',
      created: 200,
    };
    const record = { usd_amount: 10, lbp_amount: 10 * RATE, usd_to_lbp: true };
    const names = Array.from({ length: CLIENTS }, (_, c) => `fb_${c}_${suffix}`);
    const tokens = new Map<Side, string[]>();
    for (const side of [ours, flask]) {
      const list: string[] = [];
      for (const n of names) list.push(await side.user(n));
      tokens.set(side, list);
      // the reader (client 0) has RECORDS records of both directions
      for (let i = 0; i < RECORDS; i++) {
        const usd = 10 + (i % 9);
        await call(
          side.base,
          '/transaction',
          { usd_amount: usd, lbp_amount: usd * RATE, usd_to_lbp: i % 2 === 0 },
          list[0],
        );
      }
      const n = await listLength(side.base, side.list, list[0]);
      if (n !== RECORDS) throw new Error(`${side.name}'s ${side.list} lists ${n} records, not ${RECORDS}`);
      log(`${side.name}: ${CLIENTS} users, the reader's ${RECORDS} records listed`);
    }

    const quiet = await quietMachine(120);
    log(`machine quiet after ${quiet.waited.toFixed(0)} s (${(quiet.idle * 100).toFixed(0)}% idle)`);
    interface Compared {
      route: string;
      what: string;
      ours: Throughput;
      flask: Throughput;
      goal: number | null;
    }
    const results: Compared[] = [];
    const compare = async (
      route: string,
      what: string,
      goal: number | null,
      reqs: (side: Side) => CannonRequest[],
    ): Promise<void> => {
      const [a, b] = await alternating(
        () => cannon(ours.base, reqs(ours), CLIENTS, SECONDS),
        () => cannon(flask.base, reqs(flask), CLIENTS, SECONDS),
        FLASK_ROUNDS,
      );
      results.push({ route, what, ours: a, flask: b, goal });
      log(
        `${route}: ours ${a.perSecond.toFixed(1)}/s, Flask ${b.perSecond.toFixed(1)}/s; ${roundsText(a, b)}`,
      );
    };
    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
    // first, while the seed's three-day window holds the reader's RECORDS records only
    await compare(
      'GET /exchangeRate',
      `ours: the cached reference; Flask: every record of the last 3 days read and averaged (${RECORDS} here)`,
      null,
      () => [{ path: '/exchangeRate' }],
    );
    await compare(
      'GET /transactions',
      `the reader's ${RECORDS} records (ours: \`GET /transactions\`, a page of 50 and \`X-Total-Count\`; Flask: \`GET /transaction\`)`,
      3,
      (side) => [{ path: side.list, headers: bearer((tokens.get(side) as string[])[0]) }],
    );
    await compare(
      'POST /transaction',
      `a record, each connection with its own user's token (${CLIENTS} users)`,
      null,
      (side) =>
        (tokens.get(side) as string[]).map((t) => ({
          method: 'POST' as const,
          path: '/transaction',
          headers: bearer(t),
          body: record,
          expect: side.created,
        })),
    );
    await compare(
      'login',
      `ours: \`POST /login\` (a session row and two tokens); Flask: \`POST /authentication\`; bcrypt cost ${BCRYPT_ROUNDS} on both`,
      null,
      (side) =>
        names.map((n) => ({
          method: 'POST' as const,
          path: side.login,
          body: { user_name: n, password: PASSWORD },
          expect: 200,
        })),
    );

    const dialect = config.db.type === 'sqlite' ? 'SQLite' : 'MariaDB/MySQL';
    const ms = (l: Latency) => `${l.p50.toFixed(2)} / ${l.p99.toFixed(2)} ms`;
    const table = [
      '| route | what | ours/s | Flask/s | ratio ours / Flask | goal | ours p50 / p99 | Flask p50 / p99 | errors ours / Flask |',
      '|---|---|---|---|---|---|---|---|---|',
      ...results.map((r) => {
        const ratio = pairedRatio(r.ours, r.flask);
        const goal = r.goal === null ? '' : `>= ${r.goal} ${ratio >= r.goal ? 'met' : '**missed**'}`;
        return `| ${r.route} | ${r.what} | ${r.ours.perSecond.toFixed(1)} | ${r.flask.perSecond.toFixed(1)} | ${ratio.toFixed(2)}x | ${goal} | ${ms(r.ours.latency)} | ${ms(r.flask.latency)} | ${r.ours.errors} / ${r.flask.errors} |`;
      }),
    ].join('\n');
    console.log(`\n${table}\n`);
    const doc = `# Side by side with the seed's Flask app

Produced by \`npm run bench:flask\` (${new Date().toISOString()}), all figures measured in one run on one
machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; both apps against the same
${dialect} server (ours on its own fresh database, \`${config.db.type === 'sqlite' ? config.db.sqlitePath : config.db.name}\`).

${table}

- **Ours**: the built API as \`npm start\` runs it, one Node process, every protection on (the
  session and the account's status read on every request, rate limits, validation, the outlier check,
  the audit trail, metrics).
- **Flask**: ${FLASK_NOTE} (Flask + Flask-SQLAlchemy + Flask-Marshmallow + Flask-Bcrypt + PyJWT) under
  gunicorn (${FLASK_WORKERS}), at \`${FLASK_URL}\`. It checks the token's signature and nothing else: no
  session, no account status, no count, no limits.
- gunicorn's sync workers close the connection after every answer: autocannon reconnects, and a
  request written to a connection the server has just closed counts as an error (in a 6 s check by
  hand, 720 such socket errors and no answer other than 200). Its throughput counts answers only; its
  latency figures include those reconnections and are not comparable with ours (kept alive).
- ${CLIENTS} connections (autocannon; the POST rows one user per connection), ${WARMUP_SECONDS} s of discarded warm-up, then
  ${SECONDS} s measured; ${FLASK_ROUNDS} alternating rounds (ours, then Flask right after). Each side shows its median
  run; **the ratio is the median of the rounds' own ratios**. The rounds, in order:

${results.map((r) => `  - ${r.route}: ${roundsText(r.ours, r.flask)}.`).join('\n')}

- Login is bcrypt at cost ${BCRYPT_ROUNDS} on both sides: a physical limit of a few hashes per second per
  core, so that row measures the hash, not the apps.
- The machine was quiet before the first row (waited ${quiet.waited.toFixed(0)} s, then ${(quiet.idle * 100).toFixed(0)}% idle).

How to re-run: README, "The seed's Flask app side by side".
`;
    const docs = join(__dirname, '..', '..', 'docs');
    mkdirSync(docs, { recursive: true });
    const file = `FLASK-COMPARISON${config.db.type === 'sqlite' ? '-sqlite' : ''}.md`;
    writeFileSync(join(docs, file), doc);
    log(`wrote docs/${file}`);
  } finally {
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
