import fc from 'fast-check';
import { ContributorSet, type ContributorRow, type ContributorSample } from './contributors';
import {
  type ContributorLoader,
  FULL_RELOAD_MS,
  LiveContributors,
  RECENT_MS,
  type RecentSample,
} from './live-contributors';

const WINDOW_MS = 72 * 3600_000;

/**
 * A fake database: committed samples (with their account's standing), read as the real loader reads
 * them, at a moment of our choosing. Rows are per sample: ContributorSet adds them up per account.
 */
class FakeDb {
  readonly committed = new Map<number, ContributorSample>();
  /** Accounts that do not count (suspended, distrusted). */
  readonly excluded = new Set<number>();
  epoch = 'e0';
  loads = 0;
  steps = 0;

  ok(s: ContributorSample): boolean {
    return s.userId === null || !this.excluded.has(s.userId);
  }

  rows(since: Date, until: Date, untilExclusive = false): ContributorRow[] {
    return [...this.committed.values()]
      .filter((s) => s.createdAt >= since && (untilExclusive ? s.createdAt < until : s.createdAt <= until))
      .filter((s) => this.ok(s))
      .map((s) => ({
        userId: s.userId,
        rate: s.userId === null ? s.rate : null,
        samples: 1,
        volume: s.volume,
        rateVolume: s.rate * s.volume,
        newestAt: s.createdAt,
      }));
  }

  samples(after: Date, until: Date): RecentSample[] {
    return [...this.committed.values()]
      .filter((s) => s.createdAt > after && s.createdAt <= until)
      .map((s) => ({ ...s, ok: this.ok(s) }));
  }

  check(after: Date, until: Date): { count: number; idSum: number } {
    const in_ = this.samples(after, until);
    return { count: in_.length, idSum: in_.reduce((a, s) => a + s.id, 0) };
  }
}

describe('LiveContributors', () => {
  let db: FakeDb;
  let now: number;
  /** Runs inside a load, between reading the rows and asking about ids (as a commit could). */
  let duringLoad: (() => void) | null;

  const sample = (id: number, userId: number | null = id, rate = 90_000): ContributorSample => ({
    id,
    userId,
    rate,
    volume: 100_00,
    createdAt: new Date(now),
  });

  function loaderOf(d: FakeDb): ContributorLoader {
    return {
      full: async (q) => {
        d.loads += 1;
        const rows = d.rows(q.since, q.until); // the snapshot: what is committed now
        const recent = d.samples(q.recentFrom, q.until);
        const snapshot = new Set(d.committed.keys());
        const epoch = d.epoch;
        await Promise.resolve();
        duringLoad?.();
        return {
          rows,
          recent,
          epoch,
          visible: new Set(q.ids().filter((id) => snapshot.has(id))),
          excluded: new Set(q.users().filter((u) => d.excluded.has(u))),
        };
      },
      step: async (q) => {
        d.steps += 1;
        const out = {
          epoch: d.epoch,
          departed: q.departTo > q.departFrom ? d.rows(q.departFrom, q.departTo, true) : [],
          check: d.check(q.checkFrom, q.checkTo),
          added: d.samples(q.newFrom, q.newTo),
        };
        await Promise.resolve();
        duringLoad?.();
        return out;
      },
      samples: (from, to) => Promise.resolve(d.samples(from, to)),
    };
  }

  function make(refreshMs = 1000): LiveContributors {
    return new LiveContributors(loaderOf(db), WINDOW_MS, refreshMs, () => now);
  }

  /** What a full read of the window finds now (the truth the live set must equal). */
  function truth(d: FakeDb): ContributorSet {
    return ContributorSet.of(d.rows(new Date(now - WINDOW_MS), new Date(now)));
  }

  beforeEach(() => {
    db = new FakeDb();
    now = Date.parse('2026-12-05T10:00:00Z');
    duringLoad = null;
  });

  it('adds its own commits between loads, without a query', async () => {
    const sut = make();
    expect((await sut.get()).samples).toBe(0);
    const s = sample(1);
    sut.pending(s);
    db.committed.set(1, s);
    sut.committed(1);
    expect((await sut.get()).samples).toBe(1);
    expect(db.loads).toBe(1);
  });

  it('counts a sample once when its commit lands while a load runs', async () => {
    const sut = make();
    const s = sample(1);
    sut.pending(s);
    // committed in the database before the load's snapshot, commit seen by us only after the load
    db.committed.set(1, s);
    const loaded = sut.get();
    sut.committed(1);
    expect((await loaded).samples).toBe(1);
    now += 1; // still fresh
    expect((await sut.get()).samples).toBe(1);
  });

  it('counts a sample once when it commits after the snapshot but before the load ends', async () => {
    const sut = make();
    const s = sample(1);
    sut.pending(s);
    duringLoad = () => {
      db.committed.set(1, s); // after the rows were read: the snapshot does not hold it
      sut.committed(1);
    };
    expect((await sut.get()).samples).toBe(1);
    duringLoad = null;
    now += 2000; // the next load holds it: still once
    expect((await sut.get()).samples).toBe(1);
  });

  it('forgets a sample whose transaction never commits', async () => {
    const sut = make();
    sut.pending(sample(1));
    expect((await sut.get()).samples).toBe(0);
    now += 61_000;
    expect((await sut.get()).samples).toBe(0);
    sut.committed(1); // far too late: the next load will see it if it exists
    expect((await sut.get()).samples).toBe(0);
  });

  it('reloads after refreshMs (others’ samples, the moving window) and shares one load', async () => {
    const sut = make();
    await sut.get();
    db.committed.set(7, sample(7)); // another instance's
    now += 999;
    expect((await sut.get()).samples).toBe(0);
    now += 1001; // past the grace period too: readers wait for the load
    const [a, b] = await Promise.all([sut.get(), sut.get()]);
    expect(a).toBe(b);
    expect(a.samples).toBe(1);
    expect(db.loads + db.steps).toBe(2);
  });

  it('past refreshMs, readers keep the current set while one reload runs in the background', async () => {
    const sut = make();
    const first = await sut.get();
    db.committed.set(7, sample(7)); // another instance's
    now += 1000;
    // both readers answered at once with the current set; one reload started
    const [a, b] = await Promise.all([sut.get(), sut.get()]);
    expect(a).toBe(first);
    expect(b).toBe(first);
    expect(db.loads + db.steps).toBe(2);
    await new Promise((r) => setImmediate(r)); // the reload ends
    const next = await sut.get();
    expect(next.samples).toBe(1);
    expect(db.loads + db.steps).toBe(2);
    expect(first).toBe(next); // a step brings the same set forward in place
    // a failed background reload: the current set is kept through the grace period, then readers
    // wait for (and see the failure of) a load of their own
    let down = false;
    let attempts = 0;
    const fails = <T>(ok: () => Promise<T>): Promise<T> => {
      attempts += 1;
      return down ? Promise.reject(new Error('db down')) : ok();
    };
    const inner = loaderOf(new FakeDb());
    const flaky = new LiveContributors(
      {
        full: (q) => fails(() => inner.full(q)),
        step: (q) => fails(() => inner.step(q)),
        samples: (from, to) => fails(() => inner.samples(from, to)),
      },
      WINDOW_MS,
      1000,
      () => now,
    );
    const kept = await flaky.get();
    down = true;
    now += 1500;
    expect(await flaky.get()).toBe(kept); // the background reload fails unseen
    await new Promise((r) => setImmediate(r));
    expect(attempts).toBe(2);
    expect(await flaky.get()).toBe(kept); // and is tried again
    now += 500;
    await expect(flaky.get()).rejects.toThrow('db down');
  });

  it('peek() answers like get() without ever waiting: fresh, then in the grace period (starting the reload), then null', async () => {
    const sut = make();
    expect(sut.peek()).toBeNull(); // nothing loaded yet, and peek() does not load
    expect(db.loads).toBe(0);
    const first = await sut.get();
    db.committed.set(7, sample(7)); // another instance's
    now += 999;
    expect(sut.peek()).toBe(first);
    expect(db.loads).toBe(1);
    now += 1; // refreshMs: the cached answer goes on, one background reload starts
    expect(sut.peek()?.samples).toBe(0);
    expect(sut.peek()?.samples).toBe(0);
    expect(db.loads + db.steps).toBe(2);
    await new Promise((r) => setImmediate(r)); // the reload ends
    expect(sut.peek()?.samples).toBe(1);
    now += 2000; // past the grace period: nothing to answer without waiting
    expect(sut.peek()).toBeNull();
  });

  it('invalidate() makes the next reader wait for a new load; a load begun before it is not kept', async () => {
    const sut = make();
    await sut.get();
    db.committed.set(3, sample(3));
    let midway: Promise<{ samples: number }> | undefined;
    duringLoad = () => {
      duringLoad = null;
      sut.invalidate();
      midway = sut.get();
    };
    sut.invalidate();
    await sut.get();
    if (!midway) throw new Error('the load did not run the hook');
    expect((await midway).samples).toBe(1);
    expect(db.loads).toBe(3);
    expect(db.steps).toBe(0);
  });

  it('a visible sample stamped after the load began is counted once, by the load', async () => {
    const sut = make();
    const s = { ...sample(1), createdAt: new Date(now + 5) }; // its request began after the load did
    sut.pending(s);
    db.committed.set(1, s);
    expect((await sut.get()).samples).toBe(1);
    sut.committed(1);
    expect((await sut.get()).samples).toBe(1);
  });

  it('version grows with every change', async () => {
    const sut = make();
    const v0 = sut.version;
    await sut.get();
    const v1 = sut.version;
    expect(v1).toBeGreaterThan(v0);
    const s = sample(1);
    sut.pending(s);
    expect(sut.version).toBe(v1);
    sut.committed(1);
    expect(sut.version).toBeGreaterThan(v1);
  });

  describe('incremental reloads', () => {
    /** A reader every second for `seconds` (the live reference's refresh). */
    async function tick(sut: LiveContributors, seconds = 1): Promise<ContributorSet> {
      await sut.get();
      for (let i = 0; i < seconds; i++) {
        now += 1000;
        await sut.get();
        await new Promise((r) => setImmediate(r));
      }
      return sut.get();
    }

    it('after the first load, reads only what arrived and what left the window', async () => {
      db.committed.set(1, sample(1, 1, 89_000));
      db.committed.set(2, sample(2, 2, 90_000));
      const sut = make();
      await sut.get();
      now += 1000;
      db.committed.set(3, sample(3, 3, 91_000)); // another instance's
      await tick(sut, 2);
      expect(db.loads).toBe(1);
      expect(db.steps).toBeGreaterThanOrEqual(2);
      expect((await sut.get()).centre()).toEqual(truth(db).centre());
      // samples 1 and 2 leave the window; 3 a second later
      now += WINDOW_MS - 2500;
      db.committed.set(4, sample(4, 4, 92_000));
      expect(db.loads).toBe(1);
      // a jump of the clock past RECENT_MS: a full load (a step could not vouch for the span)
      const set = await sut.get();
      expect(db.loads).toBe(2);
      expect(set.centre()).toEqual(truth(db).centre());
      await tick(sut, 3);
      expect(db.loads).toBe(2);
      expect((await sut.get()).centre()).toEqual(truth(db).centre());
      expect((await sut.get()).samples).toBe(1); // only 4 is left
    });

    it('takes out the samples that leave the window, step by step', async () => {
      const sut = make();
      for (let i = 1; i <= 5; i++) {
        db.committed.set(i, sample(i, i % 3, 89_000 + i * 100));
        now += 1000;
        await sut.get();
      }
      await tick(sut, 1);
      const loads = db.loads;
      await new Promise((r) => setImmediate(r)); // the background step ends
      now += WINDOW_MS - 8000; // just before the first sample leaves
      const before = await sut.get();
      expect(db.loads).toBe(loads + 1);
      expect(before.samples).toBe(5);
      for (let i = 0; i < 8; i++) {
        const set = await tick(sut, 1);
        expect(set.centre()).toEqual(truth(db).centre());
        expect(set.samples).toBe(truth(db).samples);
      }
      expect(db.loads).toBe(loads + 1);
      expect((await sut.get()).samples).toBe(0);
      expect((await sut.get()).newestAt).toBeNull();
    });

    it('finds another instance’s late commit (stamped before the last step read its span) once', async () => {
      const sut = make();
      await sut.get();
      const late = sample(10, 10, 95_000); // stamped now, committed 3 s later by another instance
      await tick(sut, 3);
      db.committed.set(10, late);
      const set = await tick(sut, 1);
      expect(set.samples).toBe(1);
      await tick(sut, 5);
      expect((await sut.get()).samples).toBe(1);
      expect(sut.loads.late).toBe(1);
      expect(db.loads).toBe(1);
    });

    it('counts its own commit once whether a step or the commit comes first', async () => {
      const sut = make();
      await sut.get();
      // committed in the database, the step reads it, and only then this instance sees the commit
      const a = sample(20);
      sut.pending(a);
      now += 1000;
      db.committed.set(20, a);
      await tick(sut, 1);
      sut.committed(20);
      // the commit is seen first; the step reads it again
      const b = sample(21);
      sut.pending(b);
      db.committed.set(21, b);
      sut.committed(21);
      const set = await tick(sut, 3);
      expect(set.samples).toBe(2);
      expect(set.centre()).toEqual(truth(db).centre());
    });

    it('loads in full when the reference epoch moved (a standing changed elsewhere)', async () => {
      db.committed.set(1, sample(1, 1, 89_000));
      db.committed.set(2, sample(2, 2, 99_000));
      const sut = make();
      expect((await sut.get()).contributors).toBe(2);
      db.excluded.add(2); // suspended on another instance, in the same transaction as the epoch
      db.epoch = 'e1';
      const set = await tick(sut, 1);
      expect(db.loads).toBe(2);
      expect(set.contributors).toBe(1);
      expect(set.centre()).toEqual(truth(db).centre());
      // an excluded account's new samples are known (by id) but not counted
      db.committed.set(3, sample(3, 2, 99_500));
      expect((await tick(sut, 2)).contributors).toBe(1);
      expect(db.loads).toBe(2);
    });

    it('loads in full every FULL_RELOAD_MS whatever happens', async () => {
      const sut = make();
      await sut.get();
      for (let t = 0; t < FULL_RELOAD_MS; t += RECENT_MS / 2) {
        now += RECENT_MS / 2;
        await sut.get();
        await new Promise((r) => setImmediate(r));
      }
      expect(db.loads).toBe(2);
    });

    it('equals a full read of the window after any mix of commits, late commits, departures and epoch moves', async () => {
      type Op =
        | { kind: 'other'; user: number | null; rate: number; lateMs: number }
        | { kind: 'own'; user: number; rate: number; commitAfterMs: number }
        | { kind: 'wait'; ms: number }
        | { kind: 'exclude'; user: number }
        | { kind: 'read' };
      const op: fc.Arbitrary<Op> = fc.oneof(
        fc.record({
          kind: fc.constant('other' as const),
          user: fc.option(fc.integer({ min: 1, max: 6 }), { nil: null }),
          rate: fc.integer({ min: 85_000, max: 95_000 }),
          lateMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: RECENT_MS - 2000 })),
        }),
        fc.record({
          kind: fc.constant('own' as const),
          user: fc.integer({ min: 1, max: 6 }),
          rate: fc.integer({ min: 85_000, max: 95_000 }),
          commitAfterMs: fc.integer({ min: 0, max: 3000 }),
        }),
        fc.record({
          kind: fc.constant('wait' as const),
          ms: fc.oneof(fc.integer({ min: 1, max: 3000 }), fc.constant(WINDOW_MS / 2)),
        }),
        fc.record({ kind: fc.constant('exclude' as const), user: fc.integer({ min: 1, max: 6 }) }),
        fc.constant({ kind: 'read' as const }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 60 }), async (ops) => {
          db = new FakeDb();
          now = Date.parse('2026-12-05T10:00:00Z');
          duringLoad = null;
          const sut = make();
          let id = 0;
          /** Commits due later: [due time, what to do]. */
          let due: [number, () => void][] = [];
          const runDue = (): void => {
            const ready = due.filter(([at]) => at <= now);
            due = due.filter(([at]) => at > now);
            for (const [, fn] of ready) fn();
          };
          for (const o of ops) {
            if (o.kind === 'other') {
              const s = { ...sample(++id, o.user, o.rate) };
              if (o.lateMs === 0) db.committed.set(s.id, s);
              else due.push([now + o.lateMs, () => db.committed.set(s.id, s)]);
            } else if (o.kind === 'own') {
              // an account that does not count cannot record a counted sample (403, or not counted)
              if (db.excluded.has(o.user)) continue;
              const s = sample(++id, o.user, o.rate);
              sut.pending(s);
              due.push([
                now + o.commitAfterMs,
                () => {
                  db.committed.set(s.id, s);
                  sut.committed(s.id);
                },
              ]);
            } else if (o.kind === 'wait') {
              now += o.ms;
              runDue();
            } else if (o.kind === 'exclude') {
              db.excluded.add(o.user);
              db.epoch = `e${id}-${o.user}-${db.excluded.size}`;
            } else {
              await sut.get();
              await new Promise((r) => setImmediate(r));
            }
          }
          // everything committed, read every second (steps, no full load forced by a gap): what the
          // window holds, exactly once
          for (let i = 0; due.length > 0 || i < 3; i++) {
            now += 1000;
            runDue();
            await sut.get();
            await new Promise((r) => setImmediate(r));
          }
          const live = await sut.get();
          const expected = truth(db);
          expect(live.samples).toBe(expected.samples);
          expect(live.contributors).toBe(expected.contributors);
          const [a, b] = [live.centre(), expected.centre()];
          expect(a.median === null ? null : Math.round(a.median * 1e6)).toBe(
            b.median === null ? null : Math.round(b.median * 1e6),
          );
        }),
        { numRuns: 300 },
      );
    });
  });
});
