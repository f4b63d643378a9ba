import { DataSource } from 'typeorm';
import { MAX_BALANCE_MINOR } from '../src/common/money';
import { AuthSessionEntity } from '../src/auth/auth-session.entity';
import { SessionsRepository } from '../src/auth/sessions.repository';
import { EntityRows } from '../src/database/entity-rows';
import { UserEntity } from '../src/users/user.entity';
import { UsersRepository } from '../src/users/users.repository';
import { WalletEntity } from '../src/wallet/wallet.entity';
import { WalletRepository } from '../src/wallet/wallet.repository';
import { createUser, type TestUser } from './factories/users';
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
});
