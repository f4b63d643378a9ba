import { SeedRefusedError, seedDemo } from '../src/scripts/seed-demo';
import { DataSource } from 'typeorm';
import { WalletService } from '../src/wallet/wallet.service';
import { login } from './factories/users';
import { startTestApp, type TestApp } from './test-app';

jest.setTimeout(120_000);

describe('npm run seed:demo', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ OUTLIER_BASELINE_CACHE_SECONDS: '0' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('loads days of drifting samples with flagged planted outliers, users with balances and transactions', async () => {
    const end = new Date('2026-11-01T00:00:00.000Z');
    const s = await seedDemo(t.app, { days: 4, end });
    expect(s.samples).toBe(4 * 24 * 2);
    expect(s.outliers).toBeGreaterThanOrEqual(3);
    expect(s.transactions).toBeGreaterThan(5);
    expect(s.offers).toBeGreaterThan(3);
    expect(s.trades).toBeGreaterThan(0);
    expect(s.deposits).toBe(2 * 5 + 1); // USD and LBP for each demo user, and one left pending
    expect(s.conversions).toBeGreaterThanOrEqual(0);
    const admin = await login(t, 'demo_admin', 'demo-password-1');
    const alice = await login(t, 'demo_alice', 'demo-password-1');
    const txs = await t.request('GET', '/transactions?limit=200', { token: alice.access });
    expect(txs.statusCode).toBe(200);
    for (const x of txs.json()) {
      expect(new Date(x.created_at).getTime()).toBeLessThan(end.getTime());
      expect(x.rate).toBeGreaterThan(80_000);
      expect(x.rate).toBeLessThan(100_000);
    }
    expect((await t.app.get(WalletService).verify()).ok).toBe(true);
    const ds = t.app.get(DataSource);
    const count = async (table: string) =>
      Number((await ds.query(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);
    expect(await count('offers')).toBe(s.offers);
    expect(await count('trades')).toBe(s.trades);
    // nothing past its expiry is left open at the end of the seed
    const endParam = t.db === 'sqlite' ? end.toISOString().replace('T', ' ').replace('Z', '') : end;
    const due = await ds.query("SELECT COUNT(*) AS n FROM offers WHERE status = 'OPEN' AND expires_at <= ?", [
      endParam,
    ]);
    expect(Number(due[0].n)).toBe(0);
    // the money came in through confirmed deposits; alice has a deposit and a withdrawal pending
    const pending = await t.request('GET', '/admin/deposits?status=PENDING', { token: admin.access });
    expect(pending.json()).toEqual([expect.objectContaining({ amount: 250, status: 'PENDING' })]);
    const payouts = await t.request('GET', '/admin/withdrawals?status=PENDING', { token: admin.access });
    expect(payouts.json()).toEqual([
      expect.objectContaining({ amount: 100, destination: 'agent, Hamra street' }),
    ]);
    const ledgerKinds: { kind: string }[] = await ds.query('SELECT DISTINCT kind FROM ledger_entries');
    expect(ledgerKinds.map((k) => k.kind)).not.toContain('TRANSACTION');
    expect(ledgerKinds.map((k) => k.kind)).toEqual(
      expect.arrayContaining(['DEPOSIT_COMPLETE', 'WITHDRAWAL_HOLD']),
    );
    const users = await t.request('GET', '/admin/users', { token: admin.access });
    expect(users.json().map((u: { user_name: string }) => u.user_name)).toEqual(
      expect.arrayContaining(['demo_admin', 'demo_alice', 'demo_elie']),
    );
  });

  it('refuses a database that already has users unless forced', async () => {
    await expect(seedDemo(t.app, { days: 1 })).rejects.toBeInstanceOf(SeedRefusedError);
    const s = await seedDemo(t.app, { days: 1, force: true, end: new Date('2026-11-02T00:00:00.000Z') });
    expect(s.samples).toBe(48);
  });
});
