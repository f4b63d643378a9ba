import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { hourlyUpsert } from '../src/rates/hourly-upsert';
import { iso, verify } from './bare-auth';
import { type BareDb, openBareDb, type Scope } from './bare-db';

/**
 * The same-work baselines of `npm run bench`: bare Fastify + the driver, in its own process,
 * answering the API's write routes with exactly the statements the API runs for them (the bench
 * records both sides and fails when the lists differ; see statements.ts), in one transaction, with
 * the same checks that decide the answer (token, session, conditional updates, row locks). Without
 * Nest, passport, class-validator, TypeORM or the audit/idempotency/outlier machinery around them.
 *  - POST /transaction: a record (no money moves);
 *  - POST /quotes, then POST /wallet/convert: a conversion at the house's quote;
 *  - POST /market/offers/:id/accept: a take of an offer that gives USD.
 * BASELINE_MID_RATE is the reference mid the quotes are priced from (the API reads it from its live
 * reference, in memory); HOUSE_SPREAD_PERCENT as the API's.
 */

const MAX_BALANCE = 10n ** 16n;

interface Who {
  id: number;
  userName: string;
}

interface Body {
  [k: string]: unknown;
}

const minor = (x: unknown): bigint | null =>
  typeof x === 'number' && Number.isFinite(x) && x > 0 ? BigInt(Math.round(x * 100)) : null;
const major = (x: bigint): number => Number(x) / 100;

async function main(): Promise<void> {
  const env = process.env;
  const db: BareDb = openBareDb(env);
  const key = Buffer.from(env.JWT_SECRET_KEY ?? '', 'utf8');
  const mid = Number(env.BASELINE_MID_RATE ?? 89_500);
  const spread = Number(env.HOUSE_SPREAD_PERCENT ?? 1);
  const conversionLimit = BigInt(Math.round(Number(env.CONVERSION_DAILY_LIMIT_USD ?? 10_000) * 100));
  const sqlite = db.dialect === 'sqlite';
  /** A Date as the driver takes it (SQLite: TypeORM's text form). */
  const at = (d: Date): Date | string => (sqlite ? d.toISOString().replace('T', ' ').replace('Z', '') : d);
  /** Minor units as the driver takes them. */
  const money = (x: bigint): bigint | string => (sqlite ? x : x.toString());
  const forUpdate = sqlite ? '' : ' FOR UPDATE';

  const app = Fastify({ logger: false });
  app.get('/health', () => ({ status: 'ok' }));

  const fail = (reply: FastifyReply, status: number, code: string) =>
    reply.code(status).send({ error: code, code, statusCode: status });

  /** The JWT check and the session read the API's guard does (one statement, prepared as ours). */
  async function auth(req: FastifyRequest, log: string[] | null): Promise<Who | null> {
    const h = req.headers.authorization ?? '';
    const c = h.startsWith('Bearer ') ? verify(h.slice(7), key) : null;
    if (!c || typeof c.sub !== 'number' || c.typ !== 'access' || typeof c.sid !== 'string') return null;
    const [s] = await db.scope(log).prepared<{
      user_id: number;
      expires_at: Date | string;
      revoked_at: unknown;
      status: string;
      user_name: string;
    }>(
      `SELECT s.user_id, s.expires_at, s.revoked_at, u.status, u.user_name FROM auth_sessions s
         INNER JOIN users u ON u.id = s.user_id WHERE s.id = ?`,
      [c.sid],
    );
    if (!s || s.user_id !== c.sub || s.status !== 'ACTIVE' || s.revoked_at !== null) return null;
    if (new Date(iso(s.expires_at)).getTime() <= Date.now()) return null;
    return { id: s.user_id, userName: s.user_name };
  }

  async function audit(
    s: Scope,
    req: FastifyRequest,
    who: Who,
    event: string,
    action: string,
    message: string | null,
    target: number,
    metadata: Record<string, unknown>,
  ): Promise<void> {
    await s.run(
      `INSERT INTO audit_logs (created_at, event_type, action, success, status_code, message, http_method, path,
        ip_address, user_agent, actor_user_id, actor_username, target_user_id, metadata_json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        at(new Date()),
        event,
        action,
        true,
        201,
        message,
        req.method,
        req.url,
        req.ip,
        req.headers['user-agent'] ?? null,
        who.id,
        who.userName,
        target,
        JSON.stringify({ ...metadata, request_id: req.id }),
      ],
    );
  }

  async function sample(
    s: Scope,
    direction: string,
    rate: number,
    source: string,
    userId: number,
    ref: { transactionId: number | null; tradeId: number | null },
    usd: bigint,
    now: Date,
  ): Promise<void> {
    const { insertId } = await s.run(
      `INSERT INTO rate_samples (direction, rate, source, user_id, transaction_id, trade_id, usd_volume, is_outlier,
        counted, anomaly_reason, anomaly_score, baseline_rate, deviation_percent, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        direction,
        rate,
        source,
        userId,
        ref.transactionId,
        ref.tradeId,
        money(usd),
        false,
        true,
        null,
        null,
        null,
        null,
        at(now),
      ],
    );
    const up = hourlyUpsert(db.dialect, { id: insertId, direction, rate, usdVolume: usd, createdAt: now });
    await s.run(up.sql, up.params);
  }

  interface Balances {
    usd_available: string | number | bigint;
    lbp_available: string | number | bigint;
  }
  const balances = (s: Scope, userId: number) =>
    s
      .all<Balances>(
        'SELECT usd_available, lbp_available, usd_held, lbp_held FROM wallets WHERE user_id = ?',
        [userId],
      )
      .then((r) => r[0]);

  const ledger = (
    s: Scope,
    kind: string,
    refType: string,
    refId: number,
    legs: [account: string, userId: number | null, currency: string, amount: bigint, after: bigint | null][],
    now: Date,
  ) => {
    const journal = randomUUID();
    return s.run(
      `INSERT INTO ledger_entries (journal_id, account, user_id, currency, amount, balance_after, kind, ref_type, ref_id, created_at)
       VALUES ${legs.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      legs.flatMap(([account, userId, currency, amount, after]) => [
        journal,
        account,
        userId,
        currency,
        money(amount),
        after === null ? null : money(after),
        kind,
        refType,
        refId,
        at(now),
      ]),
    );
  };

  /** Runs a write route: auth, then `fn`; the statements of the request go to the log. */
  const write =
    (
      route: string,
      fn: (req: FastifyRequest, reply: FastifyReply, who: Who, log: string[] | null) => Promise<unknown>,
    ) =>
    async (req: FastifyRequest, reply: FastifyReply) => {
      const log = db.newLog();
      try {
        const who = await auth(req, log);
        if (!who) return fail(reply, 401, 'INVALID_TOKEN');
        return await fn(req, reply, who, log);
      } catch (err) {
        if (err instanceof Refusal) return fail(reply, err.status, err.code);
        throw err;
      } finally {
        db.writeLog(req.method, route, reply.statusCode, log);
      }
    };

  class Refusal extends Error {
    constructor(
      readonly status: number,
      readonly code: string,
    ) {
      super(code);
    }
  }

  app.post(
    '/transaction',
    write('/transaction', async (req, reply, who, log) => {
      const b = (req.body ?? {}) as Body;
      const usd = minor(b.usd_amount);
      const lbp = minor(b.lbp_amount);
      if (!usd || !lbp || typeof b.usd_to_lbp !== 'boolean') return fail(reply, 400, 'VALIDATION_FAILED');
      const rate = Math.round((Number(lbp) / Number(usd)) * 1e6) / 1e6;
      const direction = b.usd_to_lbp ? 'usd_to_lbp' : 'lbp_to_usd';
      const now = new Date();
      const id = await db.tx(log, async (s) => {
        const { insertId } = await s.run(
          'INSERT INTO transactions (user_id, usd_amount, lbp_amount, usd_to_lbp, rate, created_at) VALUES (?, ?, ?, ?, ?, ?)',
          [who.id, money(usd), money(lbp), b.usd_to_lbp, rate, at(now)],
        );
        await s.run('UPDATE users SET transactions_count = transactions_count + 1 WHERE id = ?', [who.id]);
        await audit(s, req, who, 'TRANSACTION_CREATE', 'create transaction', null, who.id, {
          transaction_id: insertId,
          direction,
          rate,
        });
        await sample(
          s,
          direction,
          rate,
          'transaction',
          who.id,
          { transactionId: insertId, tradeId: null },
          usd,
          now,
        );
        return insertId;
      });
      return reply.code(201).send({
        message: 'Transaction added successfully',
        id,
        usd_amount: major(usd),
        lbp_amount: major(lbp),
        usd_to_lbp: b.usd_to_lbp,
        rate,
        created_at: now.toISOString(),
      });
    }),
  );

  app.post(
    '/quotes',
    write('/quotes', async (req, reply, who, log) => {
      const b = (req.body ?? {}) as Body;
      const from = minor(b.from_amount);
      if (!from || b.from_currency === b.to_currency) return fail(reply, 400, 'VALIDATION_FAILED');
      const sell = b.from_currency === 'USD';
      // the guard: the window of the published mid (its lowest and highest), and the value in force
      // when it began, from the shared history (the API reads these outside its transaction too)
      const since = new Date(Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000);
      const scope = db.scope(log);
      await scope.all(
        `SELECT MIN(low) AS lo, MAX(high) AS hi FROM reference_history
          WHERE series = ? AND bucket = 'minute' AND bucket_start >= ? AND bucket_start <= ?`,
        ['mid', at(since), at(new Date())],
      );
      await scope.all(
        `SELECT mid FROM reference_history
          WHERE series = ? AND bucket = 'minute' AND bucket_start < ? AND bucket_start >= ?
          ORDER BY bucket_start DESC LIMIT 1`,
        ['mid', at(since), at(new Date(since.getTime() - 72 * 3_600_000))],
      );
      const rate = Math.round(mid * (sell ? 1 - spread / 100 : 1 + spread / 100));
      const to = sell ? from * BigInt(rate) : (from * 100n) / BigInt(rate) / 100n;
      const now = new Date();
      const expires = new Date(now.getTime() + 30_000);
      const id = await db.tx(log, async (s) => {
        const { insertId } = await s.run(
          `INSERT INTO quotes (user_id, from_currency, to_currency, from_amount, to_amount, rate, reference_rate,
            valuation_rate, spread_percent, created_at, expires_at, used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            who.id,
            b.from_currency,
            b.to_currency,
            money(from),
            money(to),
            rate,
            mid,
            mid,
            spread,
            at(now),
            at(expires),
            null,
          ],
        );
        await audit(s, req, who, 'QUOTE_CREATE', 'quote', `quote ${insertId}`, who.id, {
          quote_id: insertId,
          rate,
        });
        return insertId;
      });
      return reply.code(201).send({
        id,
        from_currency: b.from_currency,
        to_currency: b.to_currency,
        from_amount: major(from),
        to_amount: major(to),
        rate,
        reference_rate: mid,
        spread_percent: spread,
        expires_at: expires.toISOString(),
        created_at: now.toISOString(),
      });
    }),
  );

  interface QuoteRow {
    id: number;
    user_id: number;
    from_currency: string;
    to_currency: string;
    from_amount: string | number | bigint;
    to_amount: string | number | bigint;
    rate: number;
    reference_rate: number;
  }
  app.post(
    '/wallet/convert',
    write('/wallet/convert', async (req, reply, who, log) => {
      const b = (req.body ?? {}) as Body;
      if (typeof b.quote_id !== 'number') return fail(reply, 400, 'VALIDATION_FAILED');
      const now = new Date();
      const out = await db.tx(log, async (s) => {
        // the user's conversions one at a time: the wallet row first, then the day's USD legs
        await s.all(`SELECT user_id FROM wallets WHERE user_id = ?${forUpdate}`, [who.id]);
        const [q] = await s.all<QuoteRow>(
          `SELECT id, user_id, from_currency, to_currency, from_amount, to_amount, rate, reference_rate, spread_percent,
            created_at, expires_at, used_at FROM quotes WHERE id = ? LIMIT 1`,
          [b.quote_id],
        );
        if (!q || q.user_id !== who.id) throw new Refusal(404, 'QUOTE_NOT_FOUND');
        const claimed = await s.run(
          'UPDATE quotes SET used_at = ? WHERE id = ? AND user_id = ? AND used_at IS NULL AND expires_at > ?',
          [at(now), q.id, who.id, at(now)],
        );
        if (claimed.affected !== 1) throw new Refusal(409, 'QUOTE_USED');
        const dayStart = new Date(now.getTime() - (now.getTime() % 86_400_000));
        const [day] = await s.all<{ total: unknown }>(
          `SELECT SUM(CASE WHEN from_currency = 'USD' THEN from_amount ELSE to_amount END) AS total
            FROM conversions WHERE user_id = ? AND created_at >= ?`,
          [who.id, at(dayStart)],
        );
        const usdLeg = q.from_currency === 'USD' ? BigInt(q.from_amount) : BigInt(q.to_amount);
        if (BigInt(Number(day?.total ?? 0)) + usdLeg > conversionLimit)
          throw new Refusal(422, 'LIMIT_EXCEEDED');
        const fromAmount = BigInt(q.from_amount);
        const toAmount = BigInt(q.to_amount);
        const usdDelta = q.from_currency === 'USD' ? -fromAmount : toAmount;
        const lbpDelta = q.from_currency === 'USD' ? toAmount : -fromAmount;
        const [debitCol, debit] =
          q.from_currency === 'USD' ? ['usd_available', fromAmount] : ['lbp_available', fromAmount];
        const creditCol = q.from_currency === 'USD' ? 'lbp_available' : 'usd_available';
        const moved = await s.run(
          `UPDATE wallets SET updated_at = ?, usd_available = usd_available + ?, lbp_available = lbp_available + ?
           WHERE user_id = ? AND ${debitCol} >= ? AND ${creditCol} <= ?`,
          [at(now), money(usdDelta), money(lbpDelta), who.id, money(debit), money(MAX_BALANCE - toAmount)],
        );
        if (moved.affected !== 1) throw new Refusal(422, 'INSUFFICIENT_BALANCE');
        const bal = await balances(s, who.id);
        await ledger(
          s,
          'CONVERSION',
          'quote',
          q.id,
          [
            ['user', who.id, 'USD', usdDelta, BigInt(bal.usd_available)],
            ['house', null, 'USD', -usdDelta, null],
            ['user', who.id, 'LBP', lbpDelta, BigInt(bal.lbp_available)],
            ['house', null, 'LBP', -lbpDelta, null],
          ],
          now,
        );
        const { insertId } = await s.run(
          `INSERT INTO conversions (quote_id, user_id, from_currency, from_amount, to_currency, to_amount, rate,
            reference_rate, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            q.id,
            who.id,
            q.from_currency,
            money(fromAmount),
            q.to_currency,
            money(toAmount),
            q.rate,
            q.reference_rate,
            at(now),
          ],
        );
        await audit(s, req, who, 'CONVERSION_CREATE', 'convert', `conversion ${insertId}`, who.id, {
          conversion_id: insertId,
          quote_id: q.id,
        });
        // the house's rows last, as ours: locked just before the commit
        await s.all(
          `SELECT currency, amount, updated_at FROM house_positions ORDER BY currency ASC${forUpdate}`,
        );
        await s.run(
          `UPDATE house_positions SET amount = amount + CASE currency WHEN 'USD' THEN ${(-usdDelta).toString()}
           WHEN 'LBP' THEN ${(-lbpDelta).toString()} ELSE 0 END, updated_at = ? WHERE currency IN (?, ?)`,
          [at(now), 'USD', 'LBP'],
        );
        return { id: insertId, q, bal };
      });
      return reply.code(201).send({
        message: 'Converted',
        conversion_id: out.id,
        quote_id: out.q.id,
        usd_balance: major(BigInt(out.bal.usd_available)),
        lbp_balance: major(BigInt(out.bal.lbp_available)),
      });
    }),
  );

  interface OfferRow {
    id: number;
    creator_user_id: number;
    give_currency: string;
    give_amount: string | number | bigint;
    want_amount: string | number | bigint;
    remaining_give_amount: string | number | bigint;
    remaining_want_amount: string | number | bigint;
    min_fill_amount: string | number | bigint | null;
    rate: number;
    status: string;
    expires_at: Date | string | null;
  }
  app.post<{ Params: { id: string } }>(
    '/market/offers/:id/accept',
    write('/market/offers/:id/accept', async (req, reply, who, log) => {
      const b = (req.body ?? {}) as Body;
      const asked = b.amount === undefined ? null : minor(b.amount);
      const offerId = Number((req.params as { id: string }).id);
      const now = new Date();
      const out = await db.tx(log, async (s) => {
        const [o] = await s.all<OfferRow>(
          `SELECT id, creator_user_id, give_currency, give_amount, want_currency, want_amount, remaining_give_amount,
            remaining_want_amount, min_fill_amount, rate, status, refunded_amount, created_at, expires_at, closed_at,
            updated_at FROM offers WHERE id = ?${forUpdate}`,
          [offerId],
        );
        if (!o) throw new Refusal(404, 'OFFER_NOT_FOUND');
        if (o.creator_user_id === who.id) throw new Refusal(422, 'OWN_OFFER');
        if (o.status !== 'OPEN' || (o.expires_at && new Date(iso(o.expires_at)).getTime() <= now.getTime())) {
          throw new Refusal(409, 'OFFER_NOT_OPEN');
        }
        const remGive = BigInt(o.remaining_give_amount);
        const remWant = BigInt(o.remaining_want_amount);
        const fill = asked ?? remGive;
        if (
          fill > remGive ||
          (o.min_fill_amount !== null && fill < BigInt(o.min_fill_amount) && fill !== remGive)
        ) {
          throw new Refusal(422, 'FILL_OUT_OF_RANGE');
        }
        // the offer's own rate, rounded up (against the taker); the last take pays at least the rest
        const giveAll = BigInt(o.give_amount);
        const atRate = (fill * BigInt(o.want_amount) + giveAll - 1n) / giveAll;
        const pay = fill === remGive && remWant > atRate ? remWant : atRate;
        const done = fill === remGive;
        const taken = await s.run(
          `UPDATE offers SET remaining_give_amount = remaining_give_amount - ?, remaining_want_amount = ?,
            received_want_amount = received_want_amount + ?,
            status = ?, closed_at = ?, updated_at = ? WHERE id = ? AND status = ? AND remaining_give_amount = ?
            AND remaining_want_amount = ?`,
          [
            money(fill),
            money(remWant > pay ? remWant - pay : 0n),
            money(pay),
            done ? 'COMPLETED' : 'OPEN',
            done ? at(now) : null,
            at(now),
            o.id,
            'OPEN',
            money(remGive),
            money(remWant),
          ],
        );
        if (taken.affected !== 1) throw new Refusal(409, 'OFFER_NOT_OPEN');
        const usdGive = o.give_currency === 'USD';
        const [usd, lbp] = usdGive ? [fill, pay] : [pay, fill];
        const maker = o.creator_user_id;
        const { insertId: tradeId } = await s.run(
          `INSERT INTO trades (offer_id, maker_user_id, taker_user_id, buyer_user_id, seller_user_id, usd_amount,
            lbp_amount, rate, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            o.id,
            maker,
            who.id,
            usdGive ? who.id : maker,
            usdGive ? maker : who.id,
            money(usd),
            money(lbp),
            o.rate,
            at(now),
          ],
        );
        const give = usdGive ? 'usd' : 'lbp';
        const want = usdGive ? 'lbp' : 'usd';
        const makerMoved = await s.run(
          `UPDATE wallets SET updated_at = ?, ${give}_held = ${give}_held + ?, ${want}_available = ${want}_available + ?
           WHERE user_id = ? AND ${give}_held >= ? AND ${want}_available <= ?`,
          [at(now), money(-fill), money(pay), maker, money(fill), money(MAX_BALANCE - pay)],
        );
        if (makerMoved.affected !== 1) throw new Refusal(409, 'ESCROW_SHORT');
        const makerBal = await balances(s, maker);
        const takerMoved = await s.run(
          `UPDATE wallets SET updated_at = ?, ${give}_available = ${give}_available + ?, ${want}_available = ${want}_available + ?
           WHERE user_id = ? AND ${give}_available <= ? AND ${want}_available >= ?`,
          [at(now), money(fill), money(-pay), who.id, money(MAX_BALANCE - fill), money(pay)],
        );
        if (takerMoved.affected !== 1) throw new Refusal(422, 'INSUFFICIENT_BALANCE');
        const takerBal = await balances(s, who.id);
        const G = o.give_currency;
        const W = usdGive ? 'LBP' : 'USD';
        await ledger(
          s,
          'TRADE',
          'trade',
          tradeId,
          [
            ['user_held', maker, G, -fill, null],
            ['user', who.id, G, fill, BigInt(usdGive ? takerBal.usd_available : takerBal.lbp_available)],
            ['user', who.id, W, -pay, BigInt(usdGive ? takerBal.lbp_available : takerBal.usd_available)],
            ['user', maker, W, pay, BigInt(usdGive ? makerBal.lbp_available : makerBal.usd_available)],
          ],
          now,
        );
        await audit(s, req, who, 'OFFER_ACCEPT', 'accept offer', `offer ${o.id}, trade ${tradeId}`, maker, {
          offer_id: o.id,
          trade_id: tradeId,
        });
        await s.run(
          `INSERT INTO notifications (user_id, event_type, title, message, ref_type, ref_id, occasion, is_read, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            ...[
              maker,
              'OFFER_ACCEPTED',
              'Your offer was taken',
              `Offer #${o.id}`,
              'trade',
              tradeId,
              '',
              false,
              at(now),
            ],
            ...[
              who.id,
              'TRADE_COMPLETED',
              'Trade settled',
              `You took offer #${o.id}`,
              'trade',
              tradeId,
              '',
              false,
              at(now),
            ],
          ],
        );
        const direction = usdGive ? 'usd_to_lbp' : 'lbp_to_usd';
        // the maker's standing, as the API reads it before the trade's sample
        await s.all('SELECT id, status, trusted, trusted_at, funded_at, created_at FROM users WHERE id = ?', [
          maker,
        ]);
        await sample(s, direction, o.rate, 'trade', maker, { transactionId: null, tradeId }, usd, now);
        return { tradeId, takerBal };
      });
      return reply.code(201).send({
        message: 'Offer accepted',
        trade_id: out.tradeId,
        usd_balance: major(BigInt(out.takerBal.usd_available)),
        lbp_balance: major(BigInt(out.takerBal.lbp_available)),
      });
    }),
  );

  // --- the authenticated reads: the same statements as ours, the same answers -------------------
  // Ours reads the session with every column of the session and its user (and, on the routes that
  // answer balances, the wallet) in one statement; the lists read one page and count only when the
  // page does not show where the list ends (the unfiltered transactions' total is kept on the user).
  const SESSION_COLUMNS = ['id', 'user_id', 'expires_at', 'revoked_at', 'revoke_reason', 'created_at'];
  const USER_COLUMNS = [
    'id',
    'user_name',
    'user_name_key',
    'email',
    'password_hash',
    'role',
    'status',
    'password_changed_at',
    'trusted',
    'trusted_at',
    'funded_usd',
    'funded_at',
    'transactions_count',
    'created_at',
    'updated_at',
  ];
  const WALLET_COLUMNS = ['user_id', 'usd_available', 'lbp_available', 'usd_held', 'lbp_held', 'updated_at'];
  const cols = (alias: string, names: string[]) =>
    names.map((c) => `${alias}.${c} AS ${alias}_${c}`).join(', ');
  const sessionSql = (wallet: boolean) =>
    `SELECT ${cols('s', SESSION_COLUMNS)}, ${cols('u', USER_COLUMNS)}${wallet ? `, ${cols('w', WALLET_COLUMNS)}` : ''}
       FROM auth_sessions s INNER JOIN users u ON u.id = s.user_id
       ${wallet ? 'LEFT JOIN wallets w ON w.user_id = s.user_id ' : ''}WHERE s.id = ?`;
  const SESSION_SQL = sessionSql(false);
  const SESSION_WALLET_SQL = sessionSql(true);
  type Row = Record<string, unknown>;
  const num = (v: unknown): number => Number(v);
  const big = (v: unknown): bigint =>
    v === null || v === undefined ? 0n : BigInt(v as string | number | bigint);

  /** The session check of the reads (the same as auth(), with every column, as ours reads it). */
  async function reader(req: FastifyRequest, log: string[] | null, wallet: boolean): Promise<Row | null> {
    const h = req.headers.authorization ?? '';
    const c = h.startsWith('Bearer ') ? verify(h.slice(7), key) : null;
    if (!c || typeof c.sub !== 'number' || c.typ !== 'access' || typeof c.sid !== 'string') return null;
    const [r] = await db.scope(log).prepared<Row>(wallet ? SESSION_WALLET_SQL : SESSION_SQL, [c.sid]);
    if (!r || num(r.s_user_id) !== c.sub || r.u_status !== 'ACTIVE' || r.s_revoked_at !== null) return null;
    if (new Date(iso(r.s_expires_at as Date | string)).getTime() <= Date.now()) return null;
    return r;
  }
  const page = (req: FastifyRequest) => {
    const q = req.query as Record<string, string | undefined>;
    const limit = Math.min(200, Math.max(1, Number(q.limit ?? 50) || 50));
    const offset = Math.max(0, Number(q.offset ?? 0) || 0);
    return { limit, offset };
  };
  const totalOf = (found: number, p: { limit: number; offset: number }): number | null =>
    found > 0 && found < p.limit ? p.offset + found : found === 0 && p.offset === 0 ? 0 : null;
  /** The list's total: what the page shows when it shows the list's end, else the COUNT's answer. */
  const totalOrCount = async (
    found: number,
    p: { limit: number; offset: number },
    count: () => Promise<Row[]>,
  ): Promise<number> => totalOf(found, p) ?? num((await count())[0]?.cnt);
  const read =
    (
      route: string,
      wallet: boolean,
      fn: (req: FastifyRequest, reply: FastifyReply, r: Row, log: string[] | null) => Promise<unknown>,
    ) =>
    async (req: FastifyRequest, reply: FastifyReply) => {
      const log = db.newLog();
      try {
        const r = await reader(req, log, wallet);
        if (!r) return fail(reply, 401, 'INVALID_TOKEN');
        return await fn(req, reply, r, log);
      } finally {
        db.writeLog(req.method, route, reply.statusCode, log);
      }
    };
  const walletOf = (r: Row) => ({
    usd_balance: major(big(r.w_usd_available)),
    lbp_balance: major(big(r.w_lbp_available)),
    usd_held: major(big(r.w_usd_held)),
    lbp_held: major(big(r.w_lbp_held)),
  });

  app.get(
    '/whoami',
    read('/whoami', true, async (_req, _reply, r) => {
      const b = walletOf(r);
      const created = iso(r.u_created_at as Date | string);
      return {
        id: num(r.u_id),
        user_name: r.u_user_name,
        role: r.u_role,
        status: r.u_status,
        created_at: created,
        usd_balance: b.usd_balance,
        lbp_balance: b.lbp_balance,
        // the open crowd of the bench: every account established since it was created
        established: true,
        established_at: created,
        user_id: num(r.u_id),
      };
    }),
  );

  app.get(
    '/wallet',
    read('/wallet', true, async (_req, _reply, r) => walletOf(r)),
  );

  app.get(
    '/transactions',
    read('/transactions', false, async (req, reply, r, log) => {
      const p = page(req);
      const rows = await db.scope(log).all<Row>(
        `SELECT t.id AS t_id, t.user_id AS t_user_id, t.usd_amount AS t_usd_amount, t.lbp_amount AS t_lbp_amount,
           t.usd_to_lbp AS t_usd_to_lbp, t.rate AS t_rate, t.created_at AS t_created_at
         FROM transactions t WHERE t.user_id = ? ORDER BY t.created_at DESC, t.id DESC LIMIT ? OFFSET ?`,
        [num(r.u_id), p.limit, p.offset],
      );
      const shown = rows.length > 0 ? p.offset + rows.length : 0;
      const total = totalOf(rows.length, p) ?? Math.max(num(r.u_transactions_count), shown);
      void reply.header('x-total-count', String(total));
      return rows.map((t) => ({
        id: num(t.t_id),
        usd_amount: major(big(t.t_usd_amount)),
        lbp_amount: major(big(t.t_lbp_amount)),
        usd_to_lbp: Boolean(t.t_usd_to_lbp),
        rate: Math.round(Number(t.t_rate) * 1e6) / 1e6,
        created_at: iso(t.t_created_at as Date | string),
      }));
    }),
  );

  app.get(
    '/notifications',
    read('/notifications', false, async (req, reply, r, log) => {
      const p = page(req);
      const scope = db.scope(log);
      const rows = await scope.all<Row>(
        `SELECT n.id AS n_id, n.user_id AS n_user_id, n.event_type AS n_event_type, n.title AS n_title,
           n.message AS n_message, n.ref_type AS n_ref_type, n.ref_id AS n_ref_id, n.occasion AS n_occasion,
           n.is_read AS n_is_read, n.created_at AS n_created_at
         FROM notifications n WHERE n.user_id = ? ORDER BY n.id DESC LIMIT ? OFFSET ?`,
        [num(r.u_id), p.limit, p.offset],
      );
      const total = await totalOrCount(rows.length, p, () =>
        scope.all<Row>('SELECT COUNT(*) AS cnt FROM notifications n WHERE n.user_id = ?', [num(r.u_id)]),
      );
      void reply.header('x-total-count', String(total));
      return rows.map((n) => ({
        id: num(n.n_id),
        event_type: n.n_event_type,
        title: n.n_title,
        message: n.n_message,
        ref_type: n.n_ref_type === '' ? null : n.n_ref_type,
        ref_id: num(n.n_ref_id) === 0 ? null : num(n.n_ref_id),
        is_read: Boolean(n.n_is_read),
        created_at: iso(n.n_created_at as Date | string),
      }));
    }),
  );

  app.get(
    '/market/offers',
    read('/market/offers', false, async (req, reply, r, log) => {
      const p = page(req);
      const scope = db.scope(log);
      const now = new Date();
      const where = `o.status = ? AND (o.expires_at IS NULL OR o.expires_at > ?) AND o.creator_user_id <> ?`;
      const params = ['OPEN', at(now), num(r.u_id)];
      const rows = await scope.all<Row>(
        `SELECT o.id AS o_id, o.creator_user_id AS o_creator_user_id, o.give_currency AS o_give_currency,
           o.give_amount AS o_give_amount, o.want_currency AS o_want_currency, o.want_amount AS o_want_amount,
           o.remaining_give_amount AS o_remaining_give_amount, o.remaining_want_amount AS o_remaining_want_amount,
           o.received_want_amount AS o_received_want_amount, o.min_fill_amount AS o_min_fill_amount, o.rate AS o_rate,
           o.status AS o_status, o.refunded_amount AS o_refunded_amount, o.created_at AS o_created_at,
           o.expires_at AS o_expires_at, o.closed_at AS o_closed_at, o.updated_at AS o_updated_at
         FROM offers o WHERE ${where} ORDER BY o.created_at DESC, o.id DESC LIMIT ? OFFSET ?`,
        [...params, p.limit, p.offset],
      );
      const total = await totalOrCount(rows.length, p, () =>
        scope.all<Row>(`SELECT COUNT(*) AS cnt FROM offers o WHERE ${where}`, params),
      );
      void reply.header('x-total-count', String(total));
      return rows.map((o) => ({
        id: num(o.o_id),
        creator_user_id: num(o.o_creator_user_id),
        give_currency: o.o_give_currency,
        give_amount: major(big(o.o_give_amount)),
        want_currency: o.o_want_currency,
        want_amount: major(big(o.o_want_amount)),
        remaining_give_amount: major(big(o.o_remaining_give_amount)),
        remaining_want_amount: major(big(o.o_remaining_want_amount)),
        rate: Math.round(Number(o.o_rate) * 1e6) / 1e6,
        min_fill_amount: o.o_min_fill_amount === null ? null : major(big(o.o_min_fill_amount)),
        direction: o.o_give_currency === 'USD' ? 'usd_to_lbp' : 'lbp_to_usd',
        status: 'OPEN',
        created_at: iso(o.o_created_at as Date | string),
        expires_at: o.o_expires_at === null ? null : iso(o.o_expires_at as Date | string),
      }));
    }),
  );

  await app.listen({ host: '127.0.0.1', port: Number(env.PORT ?? 0) });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
