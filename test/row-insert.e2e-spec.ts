import { DataSource, type EntityTarget, type ObjectLiteral } from 'typeorm';
import { AuditLogEntity } from '../src/audit/audit-log.entity';
import { MAX_BALANCE_MINOR } from '../src/common/money';
import { insertMany, insertOne } from '../src/database/insert';
import { NotificationEntity } from '../src/notifications/notification.entity';
import { RateSampleEntity } from '../src/rates/rate-sample.entity';
import { TransactionEntity } from '../src/transactions/transaction.entity';
import { LedgerEntryEntity } from '../src/wallet/ledger-entry.entity';
import { createUser, type TestUser } from './factories/users';
import { startTestApp, type TestApp } from './test-app';

jest.setTimeout(120_000);

/**
 * The hand-written inserts of the write paths (src/database/insert.ts) must store exactly the row
 * TypeORM's own repository insert stores, on both dialects: datetimes with milliseconds, bigint
 * amounts at the top of their range, booleans, doubles, nulls and database defaults.
 */
describe('insertOne / insertMany: rows stored like repository inserts', () => {
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

  /** Inserts `row` both ways and returns both rows as read back, without their ids. */
  async function both<T extends ObjectLiteral>(target: EntityTarget<T>, row: Omit<T, 'id'>) {
    const repo = ds.getRepository(target);
    // copies: the repository writes the generated id back into the object it is given
    const res = await repo.insert({ ...row } as never);
    const viaOrm = Number((res.identifiers[0] as { id: number }).id);
    const viaSql = await insertOne(ds.manager, target, { ...row } as never);
    expect(viaSql).toBeGreaterThan(viaOrm);
    const strip = ({ id: _id, ...rest }: T) => rest;
    return {
      orm: strip(await repo.findOneByOrFail({ id: viaOrm } as never)),
      sql: strip(await repo.findOneByOrFail({ id: viaSql } as never)),
    };
  }

  const at = new Date(1_765_000_000_123);

  it('a record: bigint amounts, a boolean, a double and a datetime with milliseconds', async () => {
    const { orm, sql } = await both(TransactionEntity, {
      userId: u.id,
      usdAmount: MAX_BALANCE_MINOR - 1n,
      lbpAmount: 1n,
      usdToLbp: false,
      rate: 89_512.345678,
      createdAt: at,
    });
    expect(sql).toEqual(orm);
    expect(sql.usdAmount).toBe(MAX_BALANCE_MINOR - 1n);
    expect(sql.createdAt).toEqual(at);
  });

  it('an audit row with nulls and text that needs escaping', async () => {
    const row = {
      eventType: 'TEST_EVENT',
      action: 'POST /x',
      success: true,
      statusCode: null,
      message: "quote ' and backslash \\ and ünïcödé",
      httpMethod: 'POST',
      path: '/x',
      ipAddress: null,
      userAgent: null,
      actorUserId: u.id,
      actorUsername: u.userName,
      targetUserId: null,
      metadataJson: JSON.stringify({ a: 1 }),
      createdAt: at,
    };
    const { orm, sql } = await both(AuditLogEntity, row);
    expect(sql).toEqual(orm);
    expect(sql.message).toBe(row.message);
  });

  it('a column the row leaves out gets its default, as with the repository', async () => {
    const row = {
      direction: 'lbp_to_usd',
      rate: 90_000,
      source: 'transaction',
      userId: null,
      transactionId: null,
      tradeId: null,
      usdVolume: 100n,
      anomalyReason: null,
      anomalyScore: null,
      baselineRate: null,
      deviationPercent: null,
      createdAt: at,
    } as Omit<RateSampleEntity, 'id'>; // no isOutlier: defaults to false
    const { orm, sql } = await both(RateSampleEntity, row);
    expect(sql).toEqual(orm);
    expect(sql.isOutlier).toBe(false);
  });

  it('a rate sample with every nullable double set, and with them null', async () => {
    for (const extra of [
      { anomalyScore: 3.25, baselineRate: 89_000.5, deviationPercent: -12.125, anomalyReason: 'far' },
      { anomalyScore: null, baselineRate: null, deviationPercent: null, anomalyReason: null },
    ]) {
      const { orm, sql } = await both(RateSampleEntity, {
        direction: 'usd_to_lbp',
        rate: 89_500,
        source: 'transaction',
        userId: u.id,
        transactionId: null,
        tradeId: null,
        usdVolume: 1_000n,
        isOutlier: extra.anomalyScore !== null,
        counted: extra.anomalyScore === null,
        createdAt: at,
        ...extra,
      });
      expect(sql).toEqual(orm);
    }
  });

  it('several ledger legs in one statement, in order, like the query builder', async () => {
    const legs = (journalId: string): Omit<LedgerEntryEntity, 'id'>[] => [
      {
        journalId,
        account: 'user',
        userId: u.id,
        currency: 'USD',
        amount: -150n,
        balanceAfter: 0n,
        kind: 'test',
        refType: 'x',
        refId: 1,
        createdAt: at,
      },
      {
        journalId,
        account: 'house',
        userId: null,
        currency: 'USD',
        amount: 150n,
        balanceAfter: null,
        kind: 'test',
        refType: null,
        refId: null,
        createdAt: at,
      },
    ];
    await ds.createQueryBuilder().insert().into(LedgerEntryEntity).values(legs('j-orm')).execute();
    await insertMany(ds.manager, LedgerEntryEntity, legs('j-sql'));
    const read = async (journalId: string) =>
      (await ds.getRepository(LedgerEntryEntity).find({ where: { journalId }, order: { id: 'ASC' } })).map(
        ({ id: _id, journalId: _j, ...rest }) => rest,
      );
    expect(await read('j-sql')).toEqual(await read('j-orm'));
    expect(await read('j-sql')).toHaveLength(2);
  });

  it('a multi-row insert that hits a unique key stores none of its rows', async () => {
    const note = (occasion: string): Omit<NotificationEntity, 'id'> => ({
      userId: u.id,
      eventType: 'TEST',
      title: 't',
      message: 'm',
      refType: 'test',
      refId: 42,
      occasion,
      isRead: false,
      createdAt: at,
    });
    await insertMany(ds.manager, NotificationEntity, [note('first')]);
    await expect(
      insertMany(ds.manager, NotificationEntity, [note('second'), note('first')]),
    ).rejects.toThrow();
    const stored = await ds.getRepository(NotificationEntity).find({ where: { userId: u.id, refId: 42 } });
    expect(stored.map((n) => n.occasion)).toEqual(['first']);
  });

  it('rows of different shapes, and raw SQL values, still go through the query builder', async () => {
    const base = { userId: u.id, usdAmount: 5n, lbpAmount: 5n, usdToLbp: true, rate: 1 };
    const id = await insertOne(ds.manager, TransactionEntity, {
      ...base,
      createdAt: () => 'CURRENT_TIMESTAMP',
    });
    expect((await ds.getRepository(TransactionEntity).findOneByOrFail({ id })).usdAmount).toBe(5n);
    await insertMany(ds.manager, TransactionEntity, [
      { ...base, createdAt: at },
      { ...base, createdAt: at, rate: undefined }, // rate left out: NOT NULL, no default
    ]).catch(() => undefined);
    // the builder wrote the statement (and it failed as a whole): nothing of it stored
    expect(await ds.getRepository(TransactionEntity).countBy({ userId: u.id, usdAmount: 5n })).toBe(1);
    await insertMany(ds.manager, TransactionEntity, [
      { ...base, createdAt: at },
      { ...base, createdAt: at },
    ]);
    expect(await ds.getRepository(TransactionEntity).countBy({ userId: u.id, usdAmount: 5n })).toBe(3);
  });
});
