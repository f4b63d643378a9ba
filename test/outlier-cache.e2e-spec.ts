import { createAdmin, createUser } from './factories/users';
import { startTestApp, type TestApp } from './test-app';

jest.setTimeout(60_000);

/** With the default baseline cache (5 s), rows of one import are still judged one after another. */
describe('outlier baseline with the default cache', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ STARTING_BALANCE_USD: '100' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('an import of 5 normal rows and a 3x row flags the 3x row', async () => {
    const admin = await createAdmin(t);
    const base = Date.now() - 3600_000;
    const at = (i: number) => new Date(base + i * 60_000).toISOString();
    const samples = [89000, 89400, 89600, 89500, 89800].map((rate, i) => ({
      direction: 'usd_to_lbp',
      rate,
      created_at: at(i),
    }));
    samples.push({ direction: 'usd_to_lbp', rate: 268500, created_at: at(10) });
    const res = await t.request('POST', '/admin/rates/import', { token: admin.access, body: samples });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ imported: 6, flagged: 1 });

    // and a live transaction right after is judged against the same market
    const u = await createUser(t);
    const bad = await t.request('POST', '/transaction', {
      token: u.access,
      body: { usd_amount: 1, lbp_amount: 268500, usd_to_lbp: true },
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().code).toBe('RATE_OUTLIER');
    const ok = await t.request('POST', '/transaction', {
      token: u.access,
      body: { usd_amount: 1, lbp_amount: 89700, usd_to_lbp: true },
    });
    expect(ok.statusCode).toBe(201);
  });
});
