import { DataSource } from 'typeorm';
import { AuditLogEntity } from '../src/audit/audit-log.entity';
import { Clock } from '../src/common/clock';
import { TransactionRunner } from '../src/database/transaction-runner';
import { type Direction, RateSampleEntity } from '../src/rates/rate-sample.entity';
import { RatesService } from '../src/rates/rates.service';
import { WatchlistService } from '../src/watchlist/watchlist.service';
import { createUser, type TestUser } from './factories/users';
import { startTestApp, type TestApp } from './test-app';

jest.setTimeout(120_000);

const HOUR = 3_600_000;
const at = (iso: string, plusMs = 0): Date => new Date(new Date(iso).getTime() + plusMs);

describe('watchlist', () => {
  let t: TestApp;
  let svc: WatchlistService;
  let clock: Clock;

  beforeAll(async () => {
    // A 2 h market window keeps each market move in the tests local in time; each step's market is
    // an admin's sample or two (each one a contributor), so one contributor publishes here.
    t = await startTestApp({ MARKET_RATE_WINDOW_HOURS: '2', RATE_MIN_CONTRIBUTORS: '1' });
    svc = t.app.get(WatchlistService);
    clock = t.app.get(Clock);
  });
  afterAll(async () => {
    await t.close();
  });
  afterEach(() => jest.restoreAllMocks());

  const setNow = (d: Date): void => {
    jest.spyOn(clock, 'now').mockReturnValue(d);
  };

  /** One accepted market sample of `usd` USD at `when`. */
  const sample = async (direction: Direction, rate: number, when: Date, usd = 100): Promise<void> => {
    setNow(when);
    const s = await t.app
      .get(TransactionRunner)
      .run((m) =>
        t.app
          .get(RatesService)
          .record({ direction, rate, source: 'manual', usdVolume: BigInt(usd * 100), createdAt: when }, m),
      );
    expect(s.isOutlier).toBe(false);
  };

  /** Two instances sweeping at the same moment, their clocks `skewMs` apart. */
  const twoSweepsAt = (when: Date, skewMs = 1): Promise<unknown> => {
    jest
      .spyOn(clock, 'now')
      .mockReturnValue(when)
      .mockReturnValueOnce(when)
      .mockReturnValueOnce(new Date(when.getTime() + skewMs));
    return Promise.all([svc.sweep(), svc.sweep()]);
  };

  const sweepAt = (when: Date) => {
    setNow(when);
    return svc.sweep();
  };

  const add = (u: TestUser, body: Record<string, unknown>) =>
    t.request('POST', '/watchlist', { token: u.access, body });

  const inbox = async (u: TestUser, eventType: string) => {
    const res = await t.request('GET', '/notifications?limit=200', { token: u.access });
    expect(res.statusCode).toBe(200);
    return res
      .json<{ event_type: string; ref_type: string; ref_id: number; title: string; message: string }[]>()
      .filter((n) => n.event_type === eventType);
  };

  describe('routes', () => {
    it('POST refuses invalid items with 400', async () => {
      const u = await createUser(t);
      const bad: Record<string, unknown>[] = [
        { item_type: 'threshold', direction: 'usd_to_lbp', condition: 'above' }, // no threshold
        { item_type: 'threshold', direction: 'usd_to_lbp', threshold: 90000 }, // no condition
        { item_type: 'threshold', direction: 'usd_to_lbp', condition: 'above', threshold: null },
        { item_type: 'direction', direction: 'usd_to_lbp', threshold: 90000 },
        { item_type: 'direction', direction: 'usd_to_lbp', condition: 'below' },
        { item_type: 'direction', direction: 'usd_to_lbp', condition: 'below', threshold: 1 },
        { item_type: 'ticker', direction: 'usd_to_lbp' },
        { item_type: 'direction', direction: 'usd_to_eur' },
        { item_type: 'threshold', direction: 'usd_to_lbp', condition: 'equal', threshold: 90000 },
        { item_type: 'threshold', direction: 'usd_to_lbp', condition: 'above', threshold: -5 },
        { item_type: 'threshold', direction: 'usd_to_lbp', condition: 'above', threshold: '90000' },
        { item_type: 'threshold', direction: 'usd_to_lbp', condition: 'above', threshold: 1e13 },
        { direction: 'usd_to_lbp' },
        { item_type: 'direction', direction: 'usd_to_lbp', armed: false },
      ];
      for (const body of bad) {
        const res = await add(u, body);
        expect({ body, status: res.statusCode }).toEqual({ body, status: 400 });
        expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', statusCode: 400 });
      }
      const missing = await add(u, { item_type: 'direction', direction: 'usd_to_lbp', threshold: 5 });
      expect(missing.json().details).toEqual(
        expect.arrayContaining([
          { field: 'threshold', message: 'threshold must be omitted for direction items' },
        ]),
      );
      // direction items may carry explicit nulls
      const ok = await add(u, {
        item_type: 'direction',
        direction: 'usd_to_lbp',
        condition: null,
        threshold: null,
      });
      expect(ok.statusCode).toBe(201);
      const list = await t.request('GET', '/watchlist', { token: u.access });
      expect(list.json()).toHaveLength(1);
      expect(
        await t.request('POST', '/watchlist', { body: { item_type: 'direction', direction: 'usd_to_lbp' } }),
      ).toMatchObject({ statusCode: 401 });
    });

    it('POST creates items (201 with the contract fields); a duplicate is 409; GET lists own items newest first', async () => {
      const u = await createUser(t);
      const other = await createUser(t);
      const th = await add(u, {
        item_type: 'threshold',
        direction: 'usd_to_lbp',
        condition: 'above',
        threshold: 90000,
      });
      expect(th.statusCode).toBe(201);
      expect(th.json()).toEqual({
        id: expect.any(Number),
        item_type: 'threshold',
        direction: 'usd_to_lbp',
        condition: 'above',
        threshold: 90000,
        created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      });
      const dir = await add(u, { item_type: 'direction', direction: 'lbp_to_usd' });
      expect(dir.statusCode).toBe(201);
      expect(dir.json()).toMatchObject({ item_type: 'direction', condition: null, threshold: null });

      const dupTh = await add(u, {
        item_type: 'threshold',
        direction: 'usd_to_lbp',
        condition: 'above',
        threshold: 90000.0,
      });
      expect(dupTh.statusCode).toBe(409);
      expect(dupTh.json()).toMatchObject({ code: 'WATCHLIST_DUPLICATE', statusCode: 409 });
      expect((await add(u, { item_type: 'direction', direction: 'lbp_to_usd' })).statusCode).toBe(409);
      // anything different is another item; another user's identical item is theirs
      expect(
        (
          await add(u, {
            item_type: 'threshold',
            direction: 'usd_to_lbp',
            condition: 'below',
            threshold: 90000,
          })
        ).statusCode,
      ).toBe(201);
      expect(
        (
          await add(u, {
            item_type: 'threshold',
            direction: 'usd_to_lbp',
            condition: 'above',
            threshold: 90000.5,
          })
        ).statusCode,
      ).toBe(201);
      expect((await add(u, { item_type: 'direction', direction: 'usd_to_lbp' })).statusCode).toBe(201);
      expect((await add(other, { item_type: 'direction', direction: 'lbp_to_usd' })).statusCode).toBe(201);

      const list = await t.request('GET', '/watchlist?limit=2', { token: u.access });
      expect(list.statusCode).toBe(200);
      expect(list.headers['x-total-count']).toBe('5');
      const rows = list.json();
      expect(rows).toHaveLength(2);
      expect(rows[0]).toMatchObject({ item_type: 'direction', direction: 'usd_to_lbp' });
      expect(rows[0]).toHaveProperty('current_rate');
      expect(rows[0]).toHaveProperty('change_24h_percent');
      const all = (await t.request('GET', '/watchlist', { token: u.access })).json();
      expect(all.map((r: { id: number }) => r.id)).toEqual(
        [...all.map((r: { id: number }) => r.id)].sort((a: number, b: number) => b - a),
      );
      expect(all[all.length - 1].id).toBe(th.json().id);
    });

    it('DELETE removes own items only (another user’s → 404), with audit rows in the same transaction', async () => {
      const u = await createUser(t);
      const other = await createUser(t);
      const item = (await add(u, { item_type: 'direction', direction: 'usd_to_lbp' })).json();
      expect((await t.request('DELETE', `/watchlist/${item.id}`, { token: other.access })).statusCode).toBe(
        404,
      );
      expect((await t.request('DELETE', '/watchlist/abc', { token: u.access })).statusCode).toBe(400);
      expect((await t.request('DELETE', '/watchlist/999999', { token: u.access })).statusCode).toBe(404);
      const del = await t.request('DELETE', `/watchlist/${item.id}`, { token: u.access });
      expect(del.statusCode).toBe(200);
      expect(del.json()).toEqual({ message: 'Watchlist item deleted' });
      expect((await t.request('DELETE', `/watchlist/${item.id}`, { token: u.access })).statusCode).toBe(404);
      expect((await t.request('GET', '/watchlist', { token: u.access })).json()).toEqual([]);
      // deleted, so it may be added again
      expect((await add(u, { item_type: 'direction', direction: 'usd_to_lbp' })).statusCode).toBe(201);

      const audit = await t.app
        .get(DataSource)
        .getRepository(AuditLogEntity)
        .find({ where: { actorUserId: u.id }, order: { id: 'ASC' } });
      const ok = audit
        .filter((a) => a.success && a.eventType.startsWith('WATCHLIST_'))
        .map((a) => a.eventType);
      expect(ok).toEqual(['WATCHLIST_ADD', 'WATCHLIST_REMOVE', 'WATCHLIST_ADD']);
      const removed = audit.find((a) => a.eventType === 'WATCHLIST_REMOVE' && a.success);
      expect(JSON.parse(removed?.metadataJson ?? '{}')).toMatchObject({
        watchlist_item_id: item.id,
        item_type: 'direction',
      });
      // refused requests are audited too (interceptor), e.g. the other user's attempt
      const refused = await t.app
        .get(DataSource)
        .getRepository(AuditLogEntity)
        .findOne({ where: { actorUserId: other.id, eventType: 'WATCHLIST_REMOVE' } });
      expect(refused).toMatchObject({ success: false, statusCode: 404 });
    });
  });

  describe('sweep', () => {
    it('a threshold item notifies on each crossing, re-arms past the hysteresis band, ignores noise inside it', async () => {
      const above = await createUser(t);
      const below = await createUser(t);
      const aboveId = (
        await add(above, {
          item_type: 'threshold',
          direction: 'usd_to_lbp',
          condition: 'above',
          threshold: 90000,
        })
      ).json().id;
      const belowId = (
        await add(below, {
          item_type: 'threshold',
          direction: 'usd_to_lbp',
          condition: 'below',
          threshold: 89200,
        })
      ).json().id;
      // Each step's market is one sample; steps 3 h apart, so the 2 h window holds only that step.
      const steps: [rate: number, aboveCount: number, belowCount: number][] = [
        // every crossing notifies, both ways; inside the 0.25% band nothing does
        [89000, 0, 1], // below item: already beyond when created → notified at the first sweep
        [90500, 1, 2], // above item: up through 90000; below item: back above 89200 · 1.0025
        [89900, 1, 2], // back under 90000 but inside the band (a crossing back needs < 89775)
        [90300, 1, 2], // so this is no new crossing
        [89500, 2, 2], // above item: back under the band (crossing down)
        [90000, 3, 2], // above item: up again, at exact equality: up, down, up = three
        [89000, 4, 3], // down again; the below item crosses below 89200
        [91000, 5, 4], // up again; the below item goes back above
      ];
      const t0 = new Date('2026-03-02T00:00:00.000Z').getTime();
      for (const [i, [rate, aboveCount, belowCount]] of steps.entries()) {
        const when = new Date(t0 + i * 3 * HOUR);
        await sample('usd_to_lbp', rate, when);
        // two sweeps at the same moment (two instances) and a later one: still one notification per crossing
        await twoSweepsAt(new Date(when.getTime() + 60_000));
        await sweepAt(new Date(when.getTime() + 120_000));
        expect({ step: i, rate, above: (await inbox(above, 'WATCHLIST_THRESHOLD_CROSSED')).length }).toEqual({
          step: i,
          rate,
          above: aboveCount,
        });
        expect({ step: i, rate, below: (await inbox(below, 'WATCHLIST_THRESHOLD_CROSSED')).length }).toEqual({
          step: i,
          rate,
          below: belowCount,
        });
      }
      const notes = await inbox(above, 'WATCHLIST_THRESHOLD_CROSSED');
      expect(notes.every((n) => n.ref_type === 'watchlist' && n.ref_id === aboveId)).toBe(true);
      expect(notes[0].message).toContain('91,000');
      expect((await inbox(below, 'WATCHLIST_THRESHOLD_CROSSED')).every((n) => n.ref_id === belowId)).toBe(
        true,
      );
      const item = (await t.request('GET', '/watchlist', { token: above.access })).json()[0];
      // whichever of the two simultaneous sweeps (clocks 1 ms apart) won the disarm
      const last = new Date(t0 + 7 * 3 * HOUR + 60_000).getTime();
      expect([last, last + 1]).toContain(new Date(item.last_notified_at as string).getTime());
    });

    it('a direction item notifies a 24 h move of 5% or more once per UTC day', async () => {
      const u = await createUser(t);
      const quiet = await createUser(t);
      const id = (await add(u, { item_type: 'direction', direction: 'lbp_to_usd' })).json().id;
      await add(quiet, { item_type: 'direction', direction: 'usd_to_lbp' }); // no data there: never notified
      const b0 = '2026-06-10T12:00:00.000Z';
      await sample('lbp_to_usd', 90000, at(b0, -24 * HOUR - 30 * 60_000));
      await sample('lbp_to_usd', 94400, at(b0, -60 * 60_000)); // +4.9%: not yet
      await sweepAt(at(b0, -50 * 60_000));
      expect(await inbox(u, 'WATCHLIST_BIG_MOVE')).toHaveLength(0);
      await sample('lbp_to_usd', 95600, at(b0, -30 * 60_000)); // window median 95000: +5.56%
      await sweepAt(at(b0));
      expect(await inbox(u, 'WATCHLIST_BIG_MOVE')).toHaveLength(1);
      // later the same UTC day, the move still over 5%: nothing new, even with two sweeps at once
      await sweepAt(at(b0, HOUR));
      await twoSweepsAt(at(b0, 2 * HOUR));
      expect(await inbox(u, 'WATCHLIST_BIG_MOVE')).toHaveLength(1);
      // the next day, another 5% move: notified again
      await sample('lbp_to_usd', 100000, at(b0, 24 * HOUR - 30 * 60_000));
      await sweepAt(at(b0, 24 * HOUR));
      const notes = await inbox(u, 'WATCHLIST_BIG_MOVE');
      expect(notes).toHaveLength(2);
      expect(notes.every((n) => n.ref_type === 'watchlist' && n.ref_id === id)).toBe(true);
      expect(notes[0].title).toBe('lbp_to_usd rose 5.26% in 24 h');
      // a day later with a move under 5%: nothing
      await sample('lbp_to_usd', 103000, at(b0, 48 * HOUR - 30 * 60_000));
      expect((await sweepAt(at(b0, 48 * HOUR))).bigMoveNotified).toBe(0);
      expect(await inbox(u, 'WATCHLIST_BIG_MOVE')).toHaveLength(2);
      expect(await inbox(quiet, 'WATCHLIST_BIG_MOVE')).toHaveLength(0);
    });
  });

  it('GET /watchlist shows current_rate and change_24h_percent as the brute-force reference over the raw samples', async () => {
    const u = await createUser(t);
    await add(u, { item_type: 'direction', direction: 'lbp_to_usd' });
    await add(u, { item_type: 'threshold', direction: 'usd_to_lbp', condition: 'below', threshold: 80000 });
    // now = 12:20, so each 2 h window has a raw edge, a whole rolled-up hour and another raw edge
    const now = at('2026-09-01T12:20:00.000Z');
    const plan: [rate: number, minutesBefore: number, usd: number][] = [
      [85000, 24 * 60 + 150, 40], // outside the 24 h-ago window
      [86000, 24 * 60 + 100, 55],
      [86500, 24 * 60 + 50, 70],
      [86200, 24 * 60 + 5, 13],
      [88000, 140, 25], // outside the current window
      [89000, 100, 50],
      [89500, 50, 120],
      [89800, 10, 30],
      [89900, 0, 7], // exactly now: included (the window's end is inclusive)
    ];
    for (const [rate, minutes, usd] of plan)
      await sample('lbp_to_usd', rate, at(now.toISOString(), -minutes * 60_000), usd);

    const samples = await t.app
      .get(DataSource)
      .getRepository(RateSampleEntity)
      .find({ where: { direction: 'lbp_to_usd', isOutlier: false } });
    const windowMs = t.config.rates.marketWindowHours * HOUR;
    // admin samples: each one a contributor, so the reference is their median, whatever the volumes
    const medianAt = (end: number): number => {
      const rates = samples
        .filter((s) => s.createdAt.getTime() >= end - windowMs && s.createdAt.getTime() <= end)
        .map((s) => s.rate)
        .sort((x, y) => x - y);
      const mid = Math.floor(rates.length / 2);
      return rates.length % 2 === 1 ? rates[mid] : (rates[mid - 1] + rates[mid]) / 2;
    };
    const current = medianAt(now.getTime());
    const past = medianAt(now.getTime() - 24 * HOUR);
    const change = ((current - past) / past) * 100;

    setNow(now);
    const res = await t.request('GET', '/watchlist', { token: u.access });
    expect(res.statusCode).toBe(200);
    const [thresholdItem, directionItem] = res.json();
    expect(directionItem.current_rate).toBeCloseTo(current, 5);
    expect(directionItem.change_24h_percent).toBeCloseTo(change, 4);
    expect(current).toBe((89500 + 89800) / 2);
    // no usd_to_lbp samples around September 1st: unknown
    expect(thresholdItem).toMatchObject({
      direction: 'usd_to_lbp',
      current_rate: null,
      change_24h_percent: null,
    });
  });
});
