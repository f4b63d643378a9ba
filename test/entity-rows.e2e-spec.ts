import { DataSource, type FindOptionsWhere } from 'typeorm';
import { MAX_BALANCE_MINOR } from '../src/common/money';
import { AuthSessionEntity } from '../src/auth/auth-session.entity';
import { SessionsRepository } from '../src/auth/sessions.repository';
import { EntityRows } from '../src/database/entity-rows';
import { UserEntity } from '../src/users/user.entity';
import { UsersRepository } from '../src/users/users.repository';
import { WalletEntity } from '../src/wallet/wallet.entity';
import { WalletRepository } from '../src/wallet/wallet.repository';
import { OfferEntity } from '../src/market/offer.entity';
import { OffersRepository } from '../src/market/offers.repository';
import { NotificationEntity } from '../src/notifications/notification.entity';
import { NotificationsRepository } from '../src/notifications/notifications.repository';
import { TransactionEntity } from '../src/transactions/transaction.entity';
import { TransactionsRepository } from '../src/transactions/transactions.repository';
import { confirmedDeposit, createAdmin, createUser, type TestUser } from './factories/users';
import { startTestApp, type TestApp } from './test-app';

jest.setTimeout(120_000);

/**
 * The hand-written hot reads (session + user per authenticated request, user and wallet for
 * /whoami) must give exactly what TypeORM's own repository read gives, on both dialects.
 */
describe('EntityRows: hand-written reads hydrated like repository reads', () => {
  let t: TestApp;
  let ds: DataSource;
  let u: TestUser;

  beforeAll(async () => {
    t = await startTestApp();
    ds = t.app.get(DataSource);
    u = await createUser(t);
  });
  afterAll(async () => {
    await t.close();
  });

  it('reads a user exactly as the repository does (datetimes, nullable columns)', async () => {
    await ds
      .getRepository(UserEntity)
      .update({ id: u.id }, { email: null, passwordChangedAt: new Date(1_700_000_000_123) });
    const viaOrm = await ds.getRepository(UserEntity).findOneByOrFail({ id: u.id });
    const viaSql = await t.app.get(UsersRepository).findById(u.id);
    expect(viaSql).toBeInstanceOf(UserEntity);
    expect(viaSql).toEqual(viaOrm);
    expect(viaSql?.passwordChangedAt).toEqual(new Date(1_700_000_000_123));
    expect(await t.app.get(UsersRepository).findById(u.id + 10_000)).toBeNull();
  });

  it('reads the largest balance exactly (bigint columns through their transformer)', async () => {
    const big = MAX_BALANCE_MINOR - 1n; // the largest balance a wallet can hold
    await ds.getRepository(WalletEntity).update({ userId: u.id }, { usdHeld: big, lbpAvailable: 0n });
    const viaOrm = await ds.getRepository(WalletEntity).findOneByOrFail({ userId: u.id });
    const viaSql = await t.app.get(WalletRepository).findWallet(u.id);
    expect(viaSql).toEqual(viaOrm);
    expect(viaSql?.usdHeld).toBe(big);
    expect(viaSql?.lbpAvailable).toBe(0n);
  });

  it('reads a session with its user, live and revoked, and nothing for an unknown id', async () => {
    const sessions = t.app.get(SessionsRepository);
    const [live] = await ds.getRepository(AuthSessionEntity).find({ where: { userId: u.id }, take: 1 });
    const viaSql = await sessions.findSessionWithUser(live.id);
    expect(viaSql?.session).toEqual(live);
    expect(viaSql?.session.revokedAt).toBeNull();
    expect(viaSql?.user).toEqual(await ds.getRepository(UserEntity).findOneByOrFail({ id: u.id }));

    await sessions.revokeSession(live.id, 'TEST', new Date(1_800_000_000_456));
    const revoked = await sessions.findSessionWithUser(live.id);
    expect(revoked?.session.revokedAt).toEqual(new Date(1_800_000_000_456));
    expect(revoked?.session.revokeReason).toBe('TEST');
    expect(await sessions.findSessionWithUser('00000000-0000-0000-0000-000000000000')).toBeNull();
  });

  it('reads inside a transaction through its connection (sees the uncommitted write)', async () => {
    const rows = new EntityRows(ds, UserEntity, 'x');
    await ds
      .transaction(async (m) => {
        await m.getRepository(UserEntity).update({ id: u.id }, { email: 'inside@example.test' });
        expect((await rows.one(rows.selectBy('id'), [u.id], m))?.email).toBe('inside@example.test');
        throw new Error('roll back');
      })
      .catch((err: unknown) => {
        if (!(err instanceof Error) || err.message !== 'roll back') throw err;
      });
    expect((await rows.one(rows.selectBy('id'), [u.id]))?.email).toBeNull();
  });

  it('gives null for the missing side of an outer join, and refuses an unknown property', async () => {
    const users = new EntityRows(ds, UserEntity, 'u');
    const wallets = new EntityRows(ds, WalletEntity, 'w');
    const q = (s: string) => ds.driver.escape(s);
    const [row] = await ds.query(
      `SELECT ${users.select}, ${wallets.select} FROM ${users.from} LEFT JOIN ${wallets.from} ` +
        `ON ${q('w')}.${q('user_id')} = ${q('u')}.${q('id')} AND 1 = 0 WHERE ${q('u')}.${q('id')} = ?`,
      [u.id],
    );
    expect(users.hydrate(row)?.id).toBe(u.id);
    expect(wallets.hydrate(row)).toBeNull();
    expect(() => users.selectBy('nope' as keyof UserEntity)).toThrow(/no column/);
  });

  it('reads list pages (records, notifications, open offers) exactly as repository reads', async () => {
    const admin = await createAdmin(t);
    const seller = await createUser(t, 'pg');
    for (let i = 0; i < 3; i++) {
      const r = await t.request('POST', '/transaction', {
        token: seller.access,
        body: { usd_amount: 10 + i, lbp_amount: (10 + i) * 89_500, usd_to_lbp: i % 2 === 0 },
      });
      expect(r.statusCode).toBe(201);
    }
    await confirmedDeposit(t, admin, seller, 'USD', 1000);
    for (const [give, rate] of [
      [100, 89_400],
      [200, 89_600],
      [150, 89_400],
    ]) {
      const o = await t.request('POST', '/market/offers', {
        token: seller.access,
        body: { give_currency: 'USD', give_amount: give, want_currency: 'LBP', want_amount: give * rate },
      });
      expect(o.statusCode).toBe(201);
    }
    const page = { offset: 0, limit: 50 };

    const records = t.app.get(TransactionsRepository);
    const recordRows = (where: FindOptionsWhere<TransactionEntity>) =>
      ds.getRepository(TransactionEntity).find({ where, order: { createdAt: 'DESC', id: 'DESC' } });
    const all = await records.list({ userId: seller.id }, page, null);
    expect(all.rows).toHaveLength(3);
    expect(all.rows[0]).toBeInstanceOf(TransactionEntity);
    expect(all.rows).toEqual(await recordRows({ userId: seller.id }));
    expect(all.total).toBe(3);
    const sells = await records.list(
      { userId: seller.id, direction: 'usd_to_lbp', from: new Date(Date.now() - 600_000), to: new Date() },
      { offset: 1, limit: 1 },
      null,
    );
    expect(sells.rows).toEqual((await recordRows({ userId: seller.id, usdToLbp: true })).slice(1, 2));
    expect(sells.total).toBe(2);

    const notifications = ds.getRepository(NotificationEntity);
    await notifications.insert(
      [0, 1, 2].map((i) => ({
        userId: seller.id,
        eventType: 'TEST',
        title: `n${i}`,
        message: 'hydration',
        refType: i === 0 ? '' : 'offer',
        refId: i === 0 ? 0 : i,
        occasion: `pg-${i}`,
        isRead: i === 1,
        createdAt: new Date(1_700_000_000_000 + i),
      })),
    );
    const listed = t.app.get(NotificationsRepository);
    const byId = (where: FindOptionsWhere<NotificationEntity>) =>
      notifications.find({ where, order: { id: 'DESC' } });
    expect((await listed.list(seller.id, false, page)).rows).toEqual(await byId({ userId: seller.id }));
    const unread = await listed.list(seller.id, true, page);
    const unreadRows = await byId({ userId: seller.id, isRead: false });
    expect(unread.rows).toEqual(unreadRows);
    // ours, and the deposit's confirmation
    expect(unread.total).toBe(unreadRows.length);
    expect(unread.rows.map((n) => n.title)).toEqual(expect.arrayContaining(['n0', 'n2']));
    expect(unread.rows.map((n) => n.title)).not.toContain('n1');

    const open = await t.app
      .get(OffersRepository)
      .listOpen({ now: new Date(), excludeUserId: null, sort: 'rate', order: 'ASC' }, page);
    expect(open.rows[0]).toBeInstanceOf(OfferEntity);
    expect(open.rows).toEqual(
      await ds
        .getRepository(OfferEntity)
        .find({ where: { status: 'OPEN' }, order: { rate: 'ASC', id: 'ASC' } }),
    );
    expect(open.total).toBe(3);
    const others = await t.app
      .get(OffersRepository)
      .listOpen({ now: new Date(), excludeUserId: seller.id, sort: 'created_at', order: 'DESC' }, page);
    expect(others).toEqual({ rows: [], total: 0 });
  });
});
