import fc from 'fast-check';
import { toMinor } from '../src/common/money';
import { createAdmin, createUser, type TestUser } from './factories/users';
import { startTestApp, type TestApp } from './test-app';

jest.setTimeout(300_000);

type Op =
  | { kind: 'tx'; user: number; usdToLbp: boolean; usdCents: number; rate: number }
  | { kind: 'adjust'; user: number; currency: 'USD' | 'LBP'; cents: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('tx' as const),
    user: fc.integer({ min: 0, max: 2 }),
    usdToLbp: fc.boolean(),
    usdCents: fc.integer({ min: 1, max: 60_000 }),
    rate: fc.integer({ min: 85_000, max: 95_000 }),
  }),
  fc.record({
    kind: fc.constant('adjust' as const),
    user: fc.integer({ min: 0, max: 2 }),
    currency: fc.constantFrom('USD' as const, 'LBP' as const),
    cents: fc.integer({ min: -3_000_000_000, max: 3_000_000_000 }).filter((c) => c !== 0),
  }),
);

/**
 * Exactness: any sequence of transaction records (no money) and admin adjustments across users keeps
 * each currency's ledger at zero, never lets a balance go negative, and leaves every balance equal to
 * its ledger sum and to a bigint model of what should have happened.
 */
describe('ledger invariants under random operation sequences (fast-check)', () => {
  let t: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    t = await startTestApp({
      STARTING_BALANCE_USD: '500',
      STARTING_BALANCE_LBP: '40000000',
      TRANSACTION_RATE_LIMIT: '1000000',
      OUTLIER_BASELINE_CACHE_SECONDS: '0',
    });
    admin = await createAdmin(t);
  });
  afterAll(async () => {
    await t.close();
  });

  it('keeps sums at zero, balances non-negative and equal to the model', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
        const users = [await createUser(t), await createUser(t), await createUser(t)];
        const model = users.map(() => ({ USD: toMinor(500), LBP: toMinor(40_000_000) }));
        for (const op of ops) {
          const m = model[op.user];
          if (op.kind === 'tx') {
            // a record moves no money, whatever the balance
            const usd = BigInt(op.usdCents);
            const lbp = usd * BigInt(op.rate);
            const body = {
              usd_amount: Number(usd) / 100,
              lbp_amount: Number(lbp) / 100,
              usd_to_lbp: op.usdToLbp,
            };
            const res = await t.request('POST', '/transaction', { token: users[op.user].access, body });
            // accepted, or refused as an outlier against the other users' records; money either way: none
            const outcome = res.statusCode === 201 ? 'recorded' : `${res.statusCode} ${res.json().code}`;
            expect({ op, outcome: ['recorded', '422 RATE_OUTLIER'].includes(outcome) }).toEqual({
              op,
              outcome: true,
            });
          } else {
            const amount = BigInt(op.cents);
            const res = await t.request('POST', `/admin/users/${users[op.user].id}/wallet/adjust`, {
              token: admin.access,
              body: { currency: op.currency, amount: Number(amount) / 100, reason: 'property test' },
            });
            if (m[op.currency] + amount < 0n) {
              expect({ op, status: res.statusCode }).toEqual({ op, status: 422 });
            } else {
              expect({ op, status: res.statusCode }).toEqual({ op, status: 200 });
              m[op.currency] += amount;
            }
          }
        }
        for (const [i, u] of users.entries()) {
          const w = (await t.request('GET', '/wallet', { token: u.access })).json();
          expect(toMinor(w.usd_balance)).toBe(model[i].USD);
          expect(toMinor(w.lbp_balance)).toBe(model[i].LBP);
        }
        const report = (await t.request('GET', '/admin/ledger/verify', { token: admin.access })).json();
        expect(report).toEqual({ ok: true, currencies: { USD: '0.00', LBP: '0.00' }, mismatches: [] });
      }),
      { numRuns: 15 },
    );
  });
});
