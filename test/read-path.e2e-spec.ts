import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, QueryFailedError } from 'typeorm';
import { signature } from '../bench/statements';
import { TransactionsCount1796644914995 as MysqlTransactionsCount } from '../migrations/mysql/1796644914995-TransactionsCount';
import { TransactionsCount1796644914995 as SqliteTransactionsCount } from '../migrations/sqlite/1796644914995-TransactionsCount';
import { SessionsRepository } from '../src/auth/sessions.repository';
import { dbDate } from '../src/database/dialect';
import { preparedRows, queryRows } from '../src/database/entity-rows';
import type { RecordedRequest } from '../src/database/statement-recorder';
import { UserEntity } from '../src/users/user.entity';
import { WalletEntity } from '../src/wallet/wallet.entity';
import { NotificationEntity } from '../src/notifications/notification.entity';
import { confirmedDeposit, createAdmin, createUser, type TestUser } from './factories/users';
import { startTestApp, type TestApp } from './test-app';

/**
 * Issue 27: the authenticated read path at the cost of its SQL. With DB_STATEMENT_LOG on, each
 * request's statements are read back (reduced like the benchmark does, bench/statements.ts):
 * - GET /whoami and GET /wallet: one statement, the session, its user and the wallet together;
 * - the lists: the session, the page, and a COUNT only when the page does not show where the list
 *   ends (a full page, or a page past the end), with X-Total-Count exact either way;
 * - balances read with the session are the committed ones (a deposit confirmed a moment ago shows).
 */

describe('the authenticated read path', () => {
  let t: TestApp;
  let dir: string;
  let log: string;
  let admin: TestUser;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'read-path-'));
    log = join(dir, 'statements.jsonl');
    t = await startTestApp({ DB_STATEMENT_LOG: log, TRANSACTION_RATE_LIMIT: '100000' });
    admin = await createAdmin(t);
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The statements (reduced) of the one request `fn` makes, and its answer. */
  async function statementsOf<T>(fn: () => Promise<T>): Promise<{ answer: T; statements: string[] }> {
    writeFileSync(log, '');
    const answer = await fn();
    const lines = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as RecordedRequest);
    expect(lines).toHaveLength(1);
    return { answer, statements: lines[0].statements.map((s) => signature(s.sql)) };
  }

  const get = (u: TestUser, url: string) => t.request('GET', url, { token: u.access });

  it('GET /whoami and GET /wallet: one statement (session, user and wallet together), balances current', async () => {
    const u = await createUser(t, 'rp');
    const who = await statementsOf(() => get(u, '/whoami'));
    expect(who.answer.statusCode).toBe(200);
    expect(who.statements).toEqual(['SELECT auth_sessions,users,wallets']);
    expect(who.answer.json()).toMatchObject({ id: u.id, user_name: u.userName });
    // no wallet row yet: zero balances
    const empty = await statementsOf(() => get(u, '/wallet'));
    expect(empty.statements).toEqual(['SELECT auth_sessions,users,wallets']);
    expect(empty.answer.json()).toEqual({ usd_balance: 0, lbp_balance: 0, usd_held: 0, lbp_held: 0 });
    // a deposit confirmed: the next read shows it
    await confirmedDeposit(t, admin, u, 'USD', 125.5);
    const funded = await statementsOf(() => get(u, '/wallet'));
    expect(funded.statements).toEqual(['SELECT auth_sessions,users,wallets']);
    expect(funded.answer.json()).toMatchObject({ usd_balance: 125.5, lbp_balance: 0 });
    expect((await get(u, '/whoami')).json()).toMatchObject({ usd_balance: 125.5 });
  });

  it('GET /transactions: no COUNT when the page shows the end of the list; exact X-Total-Count always', async () => {
    const u = await createUser(t, 'rp');
    for (let i = 0; i < 7; i++) {
      const r = await t.request('POST', '/transaction', {
        token: u.access,
        body: { usd_amount: 10 + i, lbp_amount: (10 + i) * 89_500, usd_to_lbp: i % 2 === 0 },
      });
      expect(r.statusCode).toBe(201);
    }
    const short = await statementsOf(() => get(u, '/transactions'));
    expect(short.statements).toEqual(['SELECT auth_sessions,users', 'SELECT transactions']);
    expect(short.answer.headers['x-total-count']).toBe('7');
    expect(short.answer.json()).toHaveLength(7);
    // a full page: more may follow; the unfiltered total is the count kept on the account, read
    // with the session
    const full = await statementsOf(() => get(u, '/transactions?limit=7'));
    expect(full.statements).toEqual(['SELECT auth_sessions,users', 'SELECT transactions']);
    expect(full.answer.headers['x-total-count']).toBe('7');
    const tail = await statementsOf(() => get(u, '/transactions?limit=5&offset=5'));
    expect(tail.statements).toHaveLength(2);
    expect([tail.answer.headers['x-total-count'], tail.answer.json().length]).toEqual(['7', 2]);
    const past = await statementsOf(() => get(u, '/transactions?offset=50'));
    expect(past.statements).toHaveLength(2);
    expect([past.answer.headers['x-total-count'], past.answer.json()]).toEqual(['7', []]);
    // filtered: a page that shows the end needs no COUNT; a full one, or one past the end, counts
    const sells = await statementsOf(() => get(u, '/transactions?direction=usd_to_lbp'));
    expect(sells.statements).toHaveLength(2);
    expect([sells.answer.headers['x-total-count'], sells.answer.json().length]).toEqual(['4', 4]);
    const fullSells = await statementsOf(() => get(u, '/transactions?direction=usd_to_lbp&limit=4'));
    expect(fullSells.statements).toEqual([
      'SELECT auth_sessions,users',
      'SELECT transactions',
      'SELECT transactions',
    ]);
    expect(fullSells.answer.headers['x-total-count']).toBe('4');
    const pastSells = await statementsOf(() => get(u, '/transactions?direction=lbp_to_usd&offset=10'));
    expect(pastSells.statements).toHaveLength(3);
    expect([pastSells.answer.headers['x-total-count'], pastSells.answer.json()]).toEqual(['3', []]);
    const none = await get(await createUser(t, 'rp'), '/transactions');
    expect([none.headers['x-total-count'], none.json()]).toEqual(['0', []]);
  });

  it('GET /notifications and GET /market/offers follow the same rules', async () => {
    const u = await createUser(t, 'rp');
    const ds = t.app.get(DataSource);
    const now = Date.now();
    for (let i = 0; i < 3; i++) {
      await ds.getRepository(NotificationEntity).insert({
        userId: u.id,
        eventType: 'TEST',
        title: `n${i}`,
        message: 'message',
        refType: 'test',
        refId: i + 1,
        occasion: `rp-${i}`,
        isRead: i === 0,
        createdAt: new Date(now + i),
      });
    }
    const all = await statementsOf(() => get(u, '/notifications'));
    expect(all.statements).toEqual(['SELECT auth_sessions,users', 'SELECT notifications']);
    expect([all.answer.headers['x-total-count'], all.answer.json().length]).toEqual(['3', 3]);
    const unread = await statementsOf(() => get(u, '/notifications?unread_only=true&limit=2'));
    expect(unread.statements).toHaveLength(3); // a full page of 2: counted
    expect(unread.answer.headers['x-total-count']).toBe('2');
    const offers = await statementsOf(() => get(u, '/market/offers'));
    expect(offers.answer.statusCode).toBe(200);
    expect(offers.statements[0]).toBe('SELECT auth_sessions,users');
    expect(offers.answer.headers['x-total-count']).toBe(String(offers.answer.json().length));
  });

  it('the counter migration counts the records made before it', async () => {
    const u = await createUser(t, 'rp');
    for (let i = 0; i < 3; i++) {
      const r = await t.request('POST', '/transaction', {
        token: u.access,
        body: { usd_amount: 5, lbp_amount: 5 * 89_500, usd_to_lbp: true },
      });
      expect(r.statusCode).toBe(201);
    }
    const ds = t.app.get(DataSource);
    const counts = async () =>
      (
        await ds.query<{ id: number; n: number }[]>(
          'SELECT id, transactions_count AS n FROM users ORDER BY id',
        )
      ).map((r) => [Number(r.id), Number(r.n)]);
    const before = await counts();
    expect(before).toContainEqual([u.id, 3]);
    // back to before the migration, then its up() again
    const migration = t.db === 'mysql' ? new MysqlTransactionsCount() : new SqliteTransactionsCount();
    const runner = ds.createQueryRunner();
    try {
      await migration.down(runner);
      await migration.up(runner);
    } finally {
      await runner.release();
    }
    expect(await counts()).toEqual(before);
  });

  it('the session read, a prepared statement on MySQL/MariaDB, gives what the text protocol gives', async () => {
    const u = await createUser(t, 'rp');
    // a wallet with balances and holds, a suspension end and a counter: every column kind the read hydrates
    await confirmedDeposit(t, admin, u, 'USD', 250.75);
    const ds = t.app.get(DataSource);
    await ds.query(
      'UPDATE users SET transactions_count = ?, funded_usd = ?, trusted = ?, trusted_at = ?, email = ? WHERE id = ?',
      [42, '900719925474099', 1, dbDate(t.db, new Date('2026-01-02T03:04:05.678Z')), 'rp@example.com', u.id],
    );
    const repo = t.app.get(SessionsRepository);
    const [session] = await ds.query<{ id: string }[]>('SELECT id FROM auth_sessions WHERE user_id = ?', [
      u.id,
    ]);
    const sql = (repo as unknown as { sessionWithUserAndWalletSql: string }).sessionWithUserAndWalletSql;
    const prepared = await preparedRows(ds, sql, [session.id]);
    const text = await queryRows(ds, sql, [session.id]);
    expect(prepared).toHaveLength(1);
    expect(prepared).toEqual(text);
    const read = await repo.findSessionWithUser(session.id, true);
    expect(read?.user).toEqual(await ds.getRepository(UserEntity).findOneBy({ id: u.id }));
    expect(read?.user).toMatchObject({ transactionsCount: 42, fundedUsd: 900719925474099n, trusted: true });
    expect(read?.user.trustedAt?.toISOString()).toBe('2026-01-02T03:04:05.678Z');
    expect(read?.wallet).toEqual(await ds.getRepository(WalletEntity).findOneBy({ userId: u.id }));
    expect(read?.wallet?.usdAvailable).toBe(25075n);
    // a failure is TypeORM's, with the driver's error inside (what the error mapping reads)
    await expect(
      preparedRows(ds, 'SELECT no_such_column FROM users WHERE id = ?', [u.id]),
    ).rejects.toBeInstanceOf(QueryFailedError);
  });
});
