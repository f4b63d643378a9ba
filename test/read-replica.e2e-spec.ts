import { createConnection } from 'mysql2/promise';
import { ReadReplica } from '../src/database/read-replica';
import { createUser, type TestUser } from './factories/users';
import { startTestApp, type TestApp } from './test-app';

/**
 * Read-only work on a real MariaDB replica (DB_REPLICA_URLS), in the read-replica run of .ci/run:
 * a primary with a binary log and a replica of it (.ci/replica-pair.sh), E2E_REPLICA_URLS pointing
 * at the replica. Shows an analytics request served by the replica (the replica's own query
 * counter grows), a user's read right after their own write staying correct while the replica
 * lags (its SQL thread stopped), and the replicas taken out of reads once they stop replicating.
 */

jest.setTimeout(60_000);

const REPLICA_URL = process.env.E2E_REPLICA_URLS ?? '';
const run = process.env.E2E_DB === 'mysql' && REPLICA_URL !== '' ? describe : describe.skip;

interface Analytics {
  total_transactions: number;
}

run('read replica (a MariaDB replica of the primary)', () => {
  let t: TestApp;
  let writer: TestUser;
  let reader: TestUser;
  let replica: Awaited<ReturnType<typeof createConnection>>;
  let reads: ReadReplica;

  const replicaSelects = async (): Promise<number> => {
    const [rows] = await replica.query("SHOW GLOBAL STATUS LIKE 'Com_select'");
    return Number((rows as { Value: string }[])[0].Value);
  };
  const record = async (u: TestUser, rate: number) => {
    const res = await t.request('POST', '/transaction', {
      token: u.access,
      body: { usd_amount: 100, lbp_amount: 100 * rate, usd_to_lbp: true },
    });
    expect(res.statusCode).toBe(201);
    return res.json<{ id: number }>().id;
  };
  const analytics = async (u: TestUser) => {
    const res = await t.request('GET', '/analytics/exchange-rate?direction=usd_to_lbp', { token: u.access });
    return { status: res.statusCode, body: res.json<Analytics>() };
  };
  /** Waits until the replica holds everything the primary committed so far. */
  const caughtUp = async () => {
    for (let i = 0; i < 100; i++) {
      const [rows] = await replica.query('SHOW SLAVE STATUS');
      const s = (
        rows as {
          Seconds_Behind_Master: number | null;
          Read_Master_Log_Pos: number;
          Exec_Master_Log_Pos: number;
        }[]
      )[0];
      if (s && s.Seconds_Behind_Master === 0 && s.Read_Master_Log_Pos === s.Exec_Master_Log_Pos) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the replica did not catch up');
  };

  beforeAll(async () => {
    const u = new URL(REPLICA_URL.split(',')[0]);
    replica = await createConnection({
      host: u.hostname,
      port: Number(u.port || 3306),
      user: decodeURIComponent(u.username || 'root'),
      password: decodeURIComponent(u.password),
    });
    // status read once at start only: the test decides when the lag is looked at
    t = await startTestApp(
      { RATE_MIN_CONTRIBUTORS: '1', REPLICA_CHECK_MS: '0', REPLICA_STICKY_MS: '60000' },
      { replicaLag: true },
    );
    reads = t.app.get(ReadReplica);
    writer = await createUser(t, 'rr_writer');
    reader = await createUser(t, 'rr_reader');
  });
  afterAll(async () => {
    await replica?.query('START SLAVE SQL_THREAD').catch(() => undefined);
    await replica?.end();
    await t?.close();
  });

  it('serves an analytics request from the replica (its query counter grows; the primary route does not)', async () => {
    await record(writer, 89_500);
    await caughtUp();
    expect(await reads.check()).toBe(true);
    expect(reads.usable).toBe(true);
    const before = { ...reads.served };
    const selectsBefore = await replicaSelects();
    const res = await analytics(reader);
    expect(res.status).toBe(200);
    expect(res.body.total_transactions).toBe(1);
    expect(reads.served.replica).toBe(before.replica + 1);
    expect(await replicaSelects()).toBeGreaterThan(selectsBefore + 1); // the aggregate queries (+ this SHOW)

    // the market's lists too
    for (const url of ['/market/offers', '/market/offers/mine', '/market/trades', '/transactions']) {
      const n = reads.served.replica;
      expect((await t.request('GET', url, { token: reader.access })).statusCode).toBe(200);
      expect({ url, replica: reads.served.replica }).toEqual({ url, replica: n + 1 });
    }

    // the writer's own reads right after their write stay on the primary
    const primaryBefore = reads.served.primary;
    expect((await analytics(writer)).status).toBe(200);
    expect(reads.served.primary).toBe(primaryBefore + 1);
  });

  it('a user reads their own write while the replica lags; others see the replica until it is taken out', async () => {
    await caughtUp();
    await replica.query('STOP SLAVE SQL_THREAD');
    try {
      // the lag is real: what the primary commits now does not reach the replica
      const id = await record(writer, 90_000);
      // the writer's list and analytics, right after the write: from the primary, so they have it
      const mine = await t.request('GET', '/transactions', { token: writer.access });
      expect(mine.json<{ id: number }[]>().map((x) => x.id)).toContain(id);
      const csv = await t.request('GET', '/transactions/export', { token: writer.access });
      expect(csv.body.split('\n').map((l) => l.split(',')[0])).toContain(String(id));
      expect((await analytics(writer)).body.total_transactions).toBe(2);
      // the reader (no write of theirs) is still routed to the replica, which is behind
      expect(reads.routesToReplica(reader.id)).toBe(true);
      expect((await analytics(reader)).body.total_transactions).toBe(1);
      // once the status is read, the stopped replica is out: everyone reads the primary
      expect(await reads.check()).toBe(false);
      expect(reads.usable).toBe(false);
      expect((await analytics(reader)).body.total_transactions).toBe(2);
      const ready = await t.request('GET', '/health/ready');
      expect(ready.statusCode).toBe(200); // the primary serves everything meanwhile
    } finally {
      await replica.query('START SLAVE SQL_THREAD');
    }
    await caughtUp();
    expect(await reads.check()).toBe(true);
    expect((await analytics(reader)).body.total_transactions).toBe(2);
  });

  it('streams a CSV export from the replica, chunk by chunk', async () => {
    await caughtUp();
    expect(await reads.check()).toBe(true);
    const before = { ...reads.served };
    const selectsBefore = await replicaSelects();
    const res = await t.request('GET', '/transactions/export', { token: reader.access });
    expect(res.statusCode).toBe(200);
    expect(res.body.split('\n')[0]).toBe('id,usd_amount,lbp_amount,usd_to_lbp,direction,rate,created_at');
    expect(reads.served.replica).toBe(before.replica + 1);
    expect(await replicaSelects()).toBeGreaterThan(selectsBefore); // its one chunk (no rows of theirs)
    // the writer's export, right after their writes, reads the primary
    expect((await t.request('GET', '/transactions/export', { token: writer.access })).statusCode).toBe(200);
    expect(reads.served.primary).toBe(before.primary + 1);
  });

  it('GET /exchangeRate is computed from the replica while it is usable', async () => {
    await caughtUp();
    expect(await reads.check()).toBe(true);
    const before = reads.snapshots.replica;
    // the live reference reloads past its cache time (MARKET_RATE_CACHE_MS): on the replica
    await new Promise((r) => setTimeout(r, 1100));
    const res = await t.request('GET', '/exchangeRate');
    expect(res.statusCode).toBe(200);
    expect(res.json<{ usd_to_lbp: number }>().usd_to_lbp).toBeGreaterThan(0);
    expect(reads.snapshots.replica).toBeGreaterThan(before);
  });
});
