import type { ContributorRow, ContributorSample } from './contributors';
import { type ContributorLoad, LiveContributors } from './live-contributors';

/** A fake database: committed samples, read as contributor rows at a moment of our choosing. */
class FakeDb {
  readonly committed = new Map<number, ContributorSample>();
  loads = 0;

  rows(since: Date, until: Date): ContributorRow[] {
    return [...this.committed.values()]
      .filter((s) => s.createdAt >= since && s.createdAt <= until)
      .map((s) => ({
        userId: s.userId,
        rate: null,
        samples: 1,
        volume: s.volume,
        rateVolume: s.rate * s.volume,
        newestAt: s.createdAt,
      }));
  }
}

describe('LiveContributors', () => {
  let db: FakeDb;
  let now: number;
  /** Runs inside a load, between reading the rows and asking about ids (as a commit could). */
  let duringLoad: (() => void) | null;

  const sample = (id: number, userId = id, rate = 90_000): ContributorSample => ({
    id,
    userId,
    rate,
    volume: 100_00,
    createdAt: new Date(now),
  });

  function make(refreshMs = 1000): LiveContributors {
    return new LiveContributors(
      async (since, until, ids): Promise<ContributorLoad> => {
        db.loads += 1;
        const rows = db.rows(since, until); // the snapshot: what is committed now
        const snapshot = new Set(db.committed.keys());
        await Promise.resolve();
        duringLoad?.();
        return { rows, visible: new Set(ids().filter((id) => snapshot.has(id))) };
      },
      72 * 3600_000,
      refreshMs,
      () => now,
    );
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
    expect(db.loads).toBe(2);
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
    expect(db.loads).toBe(2);
    await new Promise((r) => setImmediate(r)); // the reload ends
    const next = await sut.get();
    expect(next.samples).toBe(1);
    expect(db.loads).toBe(2);
    // a failed background reload: the current set is kept through the grace period, then readers
    // wait for (and see the failure of) a load of their own
    let down = false;
    let attempts = 0;
    const flaky = new LiveContributors(
      () => {
        attempts += 1;
        return down
          ? Promise.reject(new Error('db down'))
          : Promise.resolve({ rows: [], visible: new Set<number>() });
      },
      72 * 3600_000,
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
    expect(sut.peek()).toBe(first);
    expect(sut.peek()).toBe(first);
    expect(db.loads).toBe(2);
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
});
