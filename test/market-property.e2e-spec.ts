import fc from 'fast-check';
import { Clock } from '../src/common/clock';
import { type Currency, toMinor } from '../src/common/money';
import { SchedulerService } from '../src/scheduler/scheduler.service';
import { createAdmin, createUser, type TestUser } from './factories/users';
import { type Res, startTestApp, type TestApp } from './test-app';

jest.setTimeout(300_000);

const USERS = 5;
const START_USD = 500;
const START_LBP = 45_000_000;

type Op =
  | {
      kind: 'create';
      user: number;
      giveUsd: boolean;
      usdCents: number;
      /** LBP per USD, kept near the market so the outlier guard has nothing to say. */
      rate: number;
      /** Extra LBP cents on top of usd × rate, so amounts do not divide evenly. */
      jitter: number;
      /** min_fill_amount as a percentage of give_amount; null: whole only. */
      minFillPct: number | null;
      expiresInHours: number | null;
    }
  /**
   * Takes offer `pick` (of the open ones when `openOnly` and there are any): amountPct of its current
   * remainder (> 100: more than is left), or with null the whole remainder. The taker is `user` places
   * after the maker (so never the maker), or the maker itself when `own`.
   */
  | { kind: 'take'; user: number; own: boolean; pick: number; openOnly: boolean; amountPct: number | null }
  | { kind: 'cancel'; user: number; pick: number; openOnly: boolean; byMaker: boolean }
  /** Runs the expiry sweep with the clock moved this many hours (and half an hour) ahead. */
  | { kind: 'expire'; hours: number }
  | { kind: 'tx'; user: number; usdToLbp: boolean; usdCents: number; rate: number };

const user = fc.integer({ min: 0, max: USERS - 1 });
const rate = fc.integer({ min: 85_000, max: 94_000 });
const mostly = fc.integer({ min: 0, max: 4 }).map((x) => x > 0);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('create' as const),
      user,
      giveUsd: fc.boolean(),
      usdCents: fc.oneof(fc.integer({ min: 1, max: 2_000 }), fc.integer({ min: 2_000, max: 70_000 })),
      rate,
      jitter: fc.integer({ min: 0, max: 99 }),
      minFillPct: fc.option(fc.integer({ min: 1, max: 100 }), { nil: null }),
      expiresInHours: fc.option(fc.integer({ min: 1, max: 48 }), { nil: null }),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('take' as const),
      user: fc.integer({ min: 1, max: USERS - 1 }),
      own: fc.integer({ min: 0, max: 9 }).map((x) => x === 0),
      pick: fc.nat(),
      openOnly: mostly,
      amountPct: fc.option(fc.integer({ min: 1, max: 120 }), { nil: null, freq: 3 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('cancel' as const),
      user,
      pick: fc.nat(),
      openOnly: mostly,
      byMaker: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('expire' as const), hours: fc.integer({ min: 0, max: 60 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('tx' as const),
      user,
      usdToLbp: fc.boolean(),
      usdCents: fc.integer({ min: 1, max: 70_000 }),
      rate,
    }),
  },
);

type Status = 'OPEN' | 'COMPLETED' | 'CANCELLED' | 'EXPIRED';

interface ModelOffer {
  id: number;
  maker: number;
  give: Currency;
  want: Currency;
  giveAmount: bigint;
  wantAmount: bigint;
  remGive: bigint;
  remWant: bigint;
  /** Want side the maker received (fills round up, so at least want_amount once completed). */
  received: bigint;
  minFill: bigint | null;
  expiresAt: Date | null;
  status: Status;
  refunded: bigint;
}

interface ModelUser {
  avail: Record<Currency, bigint>;
  held: Record<Currency, bigint>;
}

const otherCurrency = (c: Currency): Currency => (c === 'USD' ? 'LBP' : 'USD');
const major = (minor: bigint): number => Number(minor) / 100;
/** a * b / c rounded up (a take pays its fill at the offer's own rate, rounded against the taker). */
const mulDivCeil = (a: bigint, b: bigint, c: bigint): bigint => (a * b + c - 1n) / c;

/** What the API must answer to a take, from the model alone. */
function expectedTake(
  o: ModelOffer,
  takerIndex: number,
  taker: ModelUser,
  fill: bigint,
): { status: number; code?: string; pay?: bigint } {
  if (o.maker === takerIndex) return { status: 422, code: 'OWN_OFFER' };
  if (o.status !== 'OPEN') return { status: 409, code: 'OFFER_NOT_OPEN' };
  if (fill > o.remGive) return { status: 409, code: 'OFFER_REMAINDER_TOO_SMALL' };
  let pay = mulDivCeil(fill, o.wantAmount, o.giveAmount);
  if (fill === o.remGive) {
    if (pay < o.remWant) pay = o.remWant;
  } else {
    if (o.minFill === null) return { status: 422, code: 'PARTIAL_FILL_NOT_ALLOWED' };
    if (fill < o.minFill) return { status: 422, code: 'FILL_TOO_SMALL' };
    if (pay < 100n || o.remWant - pay < 100n) return { status: 422, code: 'FILL_TOO_SMALL' };
  }
  if (taker.avail[o.want] < pay) return { status: 422, code: 'INSUFFICIENT_BALANCE' };
  return { status: 201, pay };
}

/**
 * Random sequences of offers, takes (whole and partial), cancels, expiry sweeps and transaction
 * records (which move no money) across a handful of users. After every step the ledger check passes (sums zero, balances equal
 * their ledger, none negative, held = open escrow) and every wallet (available and held) equals a
 * bigint model built only from what the API answered; refusals move nothing. After each sequence
 * every offer's status, remainder, fills and refund equal the model's.
 */
describe('marketplace invariants under random operation sequences (fast-check)', () => {
  let t: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    t = await startTestApp({
      STARTING_BALANCE_USD: String(START_USD),
      STARTING_BALANCE_LBP: String(START_LBP),
      OFFER_RATE_LIMIT: '1000000',
      TRANSACTION_RATE_LIMIT: '1000000',
      OUTLIER_BASELINE_CACHE_SECONDS: '0',
      // A minimal partial fill can imply a rate far from its offer's (the want side is rounded to a
      // cent); such trade samples must not make the guard refuse the in-range offers that follow.
      OUTLIER_MIN_SAMPLES: '100000',
    });
    admin = await createAdmin(t);
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await t.close();
  });

  it('keeps the ledger exact and every wallet and offer equal to the model', async () => {
    const clock = t.app.get(Clock);
    const scheduler = t.app.get(SchedulerService);

    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 10, maxLength: 25 }), async (ops) => {
        const users: TestUser[] = await Promise.all(Array.from({ length: USERS }, () => createUser(t, 'mp')));
        const model: ModelUser[] = users.map(() => ({
          avail: { USD: toMinor(START_USD), LBP: toMinor(START_LBP) },
          held: { USD: 0n, LBP: 0n },
        }));
        const offers: ModelOffer[] = [];

        const pickOffer = (pick: number, openOnly: boolean): ModelOffer | undefined => {
          const open = offers.filter((o) => o.status === 'OPEN');
          const from = openOnly && open.length > 0 ? open : offers;
          return from.length === 0 ? undefined : from[pick % from.length];
        };
        const walletOf = (i: number) => ({
          usd_balance: major(model[i].avail.USD),
          lbp_balance: major(model[i].avail.LBP),
          usd_held: major(model[i].held.USD),
          lbp_held: major(model[i].held.LBP),
        });
        const snapshot = (): string =>
          JSON.stringify({ model, offers }, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
        /** A refusal: the expected status and code, and the model (hence every wallet) untouched. */
        const expectRefused = (step: unknown, res: Res, status: number, code: string | undefined) => {
          expect({ step, status: res.statusCode, code: res.json().code }).toEqual({ step, status, code });
        };

        const checkInvariants = async (step: unknown): Promise<void> => {
          // the model's own books: held is exactly the open offers' remainders
          for (const [i, m] of model.entries()) {
            for (const c of ['USD', 'LBP'] as const) {
              const open = offers
                .filter((o) => o.maker === i && o.status === 'OPEN' && o.give === c)
                .reduce((a, o) => a + o.remGive, 0n);
              expect({ step, user: i, c, held: m.held[c] }).toEqual({ step, user: i, c, held: open });
              expect(m.avail[c] >= 0n).toBe(true);
            }
          }
          const wallets = await Promise.all(
            users.map(async (u) => (await t.request('GET', '/wallet', { token: u.access })).json()),
          );
          expect({ step, wallets }).toEqual({ step, wallets: users.map((_, i) => walletOf(i)) });
          const report = (await t.request('GET', '/admin/ledger/verify', { token: admin.access })).json();
          expect({ step, report }).toEqual({
            step,
            report: { ok: true, currencies: { USD: '0.00', LBP: '0.00' }, mismatches: [] },
          });
        };

        const checkOffers = async (step: unknown): Promise<void> => {
          for (const [i, u] of users.entries()) {
            const res = await t.request('GET', '/market/offers/mine?limit=200', { token: u.access });
            const actual = res
              .json<Record<string, unknown>[]>()
              .map((o) => ({
                id: o.id,
                status: o.status,
                give_amount: o.give_amount,
                remaining_give_amount: o.remaining_give_amount,
                filled_give_amount: o.filled_give_amount,
                received_want_amount: o.received_want_amount,
                refunded_amount: o.refunded_amount,
              }))
              .sort((a, b) => Number(a.id) - Number(b.id));
            const expected = offers
              .filter((o) => o.maker === i)
              .map((o) => ({
                id: o.id,
                status: o.status,
                give_amount: major(o.giveAmount),
                remaining_give_amount: major(o.remGive),
                filled_give_amount: major(o.giveAmount - o.remGive),
                received_want_amount: major(o.received),
                refunded_amount: major(o.refunded),
              }));
            expect({ step, user: i, offers: actual }).toEqual({ step, user: i, offers: expected });
          }
        };

        for (const [n, op] of ops.entries()) {
          const step = { n, op };
          const before = snapshot();
          let moved = false;

          if (op.kind === 'create') {
            const usd = BigInt(op.usdCents);
            const lbp = usd * BigInt(op.rate) + BigInt(op.jitter);
            const [give, want] = op.giveUsd ? [usd, lbp] : [lbp, usd];
            const giveCur: Currency = op.giveUsd ? 'USD' : 'LBP';
            const minFill =
              op.minFillPct === null
                ? null
                : (() => {
                    const f = (give * BigInt(op.minFillPct)) / 100n;
                    return f < 1n ? 1n : f;
                  })();
            const body: Record<string, unknown> = {
              give_currency: giveCur,
              give_amount: major(give),
              want_currency: otherCurrency(giveCur),
              want_amount: major(want),
            };
            if (minFill !== null) body.min_fill_amount = major(minFill);
            if (op.expiresInHours !== null) body.expires_in_hours = op.expiresInHours;
            const res = await t.request('POST', '/market/offers', { token: users[op.user].access, body });
            const m = model[op.user];
            if (m.avail[giveCur] < give) {
              expectRefused(step, res, 422, 'INSUFFICIENT_BALANCE');
            } else {
              expect({ step, status: res.statusCode, body: res.body }).toMatchObject({ step, status: 201 });
              const b = res.json();
              m.avail[giveCur] -= give;
              m.held[giveCur] += give;
              moved = true;
              expect({ step, b }).toMatchObject({
                step,
                b: {
                  status: 'OPEN',
                  creator_user_id: users[op.user].id,
                  give_amount: major(give),
                  want_amount: major(want),
                  remaining_give_amount: major(give),
                  min_fill_amount: minFill === null ? null : major(minFill),
                  ...walletOf(op.user),
                },
              });
              expect(b.expires_at === null).toBe(op.expiresInHours === null);
              offers.push({
                id: b.id,
                maker: op.user,
                give: giveCur,
                want: otherCurrency(giveCur),
                giveAmount: give,
                wantAmount: want,
                remGive: give,
                remWant: want,
                received: 0n,
                minFill,
                expiresAt: b.expires_at === null ? null : new Date(b.expires_at),
                status: 'OPEN',
                refunded: 0n,
              });
            }
          } else if (op.kind === 'take') {
            const o = pickOffer(op.pick, op.openOnly);
            if (!o) continue;
            const base = o.remGive > 0n ? o.remGive : o.giveAmount;
            const asked = op.amountPct === null ? null : (base * BigInt(op.amountPct)) / 100n;
            const amount = asked === null ? null : asked < 1n ? 1n : asked;
            const takerIndex = op.own ? o.maker : (o.maker + op.user) % USERS;
            const res = await t.request('POST', `/market/offers/${o.id}/accept`, {
              token: users[takerIndex].access,
              body: amount === null ? {} : { amount: major(amount) },
            });
            const fill = amount ?? o.remGive;
            const exp = expectedTake(o, takerIndex, model[takerIndex], fill);
            if (exp.status !== 201 || exp.pay === undefined) {
              expectRefused(step, res, exp.status, exp.code);
            } else {
              expect({ step, status: res.statusCode, body: res.body }).toMatchObject({ step, status: 201 });
              const b = res.json();
              const tr = b.trade;
              // the trade as the response reports it drives the model
              const [usd, lbp] = [toMinor(tr.usd_amount), toMinor(tr.lbp_amount)];
              const [gotFill, gotPay] = o.give === 'USD' ? [usd, lbp] : [lbp, usd];
              expect({ step, fill: gotFill, pay: gotPay }).toEqual({ step, fill, pay: exp.pay });
              expect({ step, tr }).toMatchObject({
                step,
                tr: {
                  offer_id: o.id,
                  maker_user_id: users[o.maker].id,
                  taker_user_id: users[takerIndex].id,
                  buyer_user_id: users[o.give === 'USD' ? takerIndex : o.maker].id,
                  seller_user_id: users[o.give === 'USD' ? o.maker : takerIndex].id,
                },
              });
              const maker = model[o.maker];
              const taker = model[takerIndex];
              maker.held[o.give] -= gotFill;
              maker.avail[o.want] += gotPay;
              taker.avail[o.give] += gotFill;
              taker.avail[o.want] -= gotPay;
              // never a better rate than the offer's, and at most one minor unit over it
              expect({ step, better: gotPay * o.giveAmount < gotFill * o.wantAmount }).toEqual({
                step,
                better: false,
              });
              expect({
                step,
                over: (gotPay - 1n) * o.giveAmount >= gotFill * o.wantAmount && gotPay !== o.remWant,
              }).toEqual({
                step,
                over: false,
              });
              o.remGive -= gotFill;
              o.remWant = o.remWant > gotPay ? o.remWant - gotPay : 0n;
              o.received += gotPay;
              if (o.remGive === 0n) o.status = 'COMPLETED';
              moved = true;
              expect({ step, b }).toMatchObject({
                step,
                b: {
                  message: 'Offer accepted',
                  trade_id: tr.id,
                  offer: { id: o.id, status: o.status, remaining_give_amount: major(o.remGive) },
                  ...walletOf(takerIndex),
                },
              });
              // a completed offer pays all of its want side (and at most a unit per fill more)
              if (o.status === 'COMPLETED') {
                expect({ step, remWant: o.remWant }).toEqual({ step, remWant: 0n });
                expect(o.received >= o.wantAmount).toBe(true);
              }
            }
          } else if (op.kind === 'cancel') {
            const o = pickOffer(op.pick, op.openOnly);
            if (!o) continue;
            const actor = op.byMaker ? o.maker : op.user;
            const res = await t.request('DELETE', `/market/offers/${o.id}`, { token: users[actor].access });
            if (actor !== o.maker) {
              expectRefused(step, res, 404, 'OFFER_NOT_FOUND');
            } else if (o.status !== 'OPEN') {
              expectRefused(step, res, 409, 'OFFER_NOT_OPEN');
            } else {
              expect({ step, status: res.statusCode, body: res.body }).toMatchObject({ step, status: 200 });
              const b = res.json();
              expect({ step, b }).toEqual({
                step,
                b: {
                  message: 'Offer cancelled',
                  id: o.id,
                  refunded_amount: major(o.remGive),
                  currency: o.give,
                  status: 'CANCELLED',
                },
              });
              const refunded = toMinor(b.refunded_amount);
              model[o.maker].held[o.give] -= refunded;
              model[o.maker].avail[o.give] += refunded;
              o.refunded = refunded;
              o.status = 'CANCELLED';
              moved = refunded > 0n;
            }
          } else if (op.kind === 'expire') {
            const at = new Date(Date.now() + op.hours * 3_600_000 + 1_800_000);
            const spy = jest.spyOn(clock, 'now').mockImplementation(() => new Date(at.getTime()));
            try {
              expect(await scheduler.runJob('offer-expiry', 'market-property')).toBe(true);
            } finally {
              spy.mockRestore();
            }
            const due = offers.filter(
              (o) => o.status === 'OPEN' && o.expiresAt !== null && o.expiresAt <= at,
            );
            // the refunds as the API reports them (GET /market/offers/mine) drive the model
            const mine = new Map<number, Record<string, unknown>>();
            for (const i of new Set(due.map((o) => o.maker))) {
              const res = await t.request('GET', '/market/offers/mine?status=EXPIRED&limit=200', {
                token: users[i].access,
              });
              for (const row of res.json<Record<string, unknown>[]>()) mine.set(Number(row.id), row);
            }
            for (const o of due) {
              const row = mine.get(o.id);
              expect({ step, id: o.id, status: row?.status, refunded: row?.refunded_amount }).toEqual({
                step,
                id: o.id,
                status: 'EXPIRED',
                refunded: major(o.remGive),
              });
              const refunded = toMinor(Number(row?.refunded_amount));
              model[o.maker].held[o.give] -= refunded;
              model[o.maker].avail[o.give] += refunded;
              o.refunded = refunded;
              o.status = 'EXPIRED';
              moved = moved || refunded > 0n;
            }
            // and nothing else of this sequence expired or changed
            await checkOffers(step);
          } else {
            // a record of an exchange made elsewhere: accepted, and no wallet money moves
            const usd = BigInt(op.usdCents);
            const lbp = usd * BigInt(op.rate);
            const res = await t.request('POST', '/transaction', {
              token: users[op.user].access,
              body: { usd_amount: major(usd), lbp_amount: major(lbp), usd_to_lbp: op.usdToLbp },
            });
            expect({ step, status: res.statusCode, body: res.body }).toMatchObject({ step, status: 201 });
          }

          if (!moved) expect({ step, model: snapshot() }).toEqual({ step, model: before });
          await checkInvariants(step);
        }
        await checkOffers('end');
      }),
      { numRuns: 20 },
    );
  });
});
