import { type ContributorSample, ContributorSet, type ContributorRow } from './contributors';

/** What one load reads, in one database snapshot. */
export interface ContributorLoad {
  rows: ContributorRow[];
  /** Which of the sample ids asked about the snapshot holds (asked after `rows` were read). */
  visible: Set<number>;
}

/**
 * Reads the contributors of the window [since, until] and then, in the same snapshot, which of the
 * ids `ids()` returns it holds (ids() is called after the rows were read).
 */
export type ContributorLoader = (since: Date, until: Date, ids: () => number[]) => Promise<ContributorLoad>;

interface LogEntry {
  sample: ContributorSample;
  /**
   * When this instance saw the commit, as a step of this instance's own sequence of events (commits
   * seen, loads begun), or null while the transaction is open. A sequence, not the clock: the order
   * of events is what matters, and a test may move the clock anywhere.
   */
  committedStep: number | null;
  addedAt: number;
}

/** A transaction still open after this long rolled back (or hangs): its sample is forgotten. */
const PENDING_TTL_MS = 60_000;

/**
 * One direction's contributors over a trailing window, kept live for this instance:
 * - loaded from the database at most every `refreshMs` (concurrent readers share one load; the
 *   window moves and other instances' samples arrive with each load); in the next `refreshMs`,
 *   readers keep the current set while the reload runs, so none waits for the periodic load;
 * - between loads, every accepted sample this instance commits is added at its commit, so a writer
 *   always reads its own write with no query at all;
 * - exactly once: a sample is announced before its transaction commits (`pending`), and a load asks,
 *   in its own snapshot and after reading the aggregate, which announced samples that snapshot
 *   holds. A sample the snapshot holds is counted by the load; one it does not hold is added when
 *   its commit is seen. (A sample announced after that question committed after the snapshot was
 *   taken, so the snapshot cannot hold it.)
 * - `invalidate()` (an outlier mark changed, a restore) makes the next reader wait for a new load.
 */
export class LiveContributors {
  private current: { set: ContributorSet; loadedAt: number; accounted: Set<number> } | null = null;
  private loading: { generation: number; promise: Promise<ContributorSet> } | null = null;
  private generation = 0;
  private changes = 0;
  private step = 0;
  private readonly log = new Map<number, LogEntry>();

  constructor(
    private readonly load: ContributorLoader,
    private readonly windowMs: number,
    private readonly refreshMs: number,
    private readonly now: () => number,
  ) {}

  /** Grows with every change of the set (a load, a commit added): for memoizing what is derived from it. */
  get version(): number {
    return this.changes;
  }

  /** An accepted sample written by a transaction of this instance that has not committed yet. */
  pending(sample: ContributorSample): void {
    this.log.set(sample.id, { sample, committedStep: null, addedAt: this.now() });
  }

  /** That transaction committed: the sample counts from now on. */
  committed(id: number): void {
    const entry = this.log.get(id);
    if (!entry) return;
    entry.committedStep = ++this.step;
    const c = this.current;
    if (c && !c.accounted.has(id)) {
      c.set.add(entry.sample);
      c.accounted.add(id);
      this.changes += 1;
    }
  }

  /** The samples under the window changed (an outlier mark): later readers wait for a new load. */
  invalidate(): void {
    this.generation += 1;
    this.current = null;
    this.changes += 1;
  }

  /** The database was replaced (a restore): forget this instance's own samples too, then reload. */
  reset(): void {
    this.log.clear();
    this.invalidate();
  }

  /**
   * The set `get()` answers without waiting: the fresh set; else, for one more `refreshMs` past its
   * refresh time, the current set, with a reload started in the background; else (none yet, or
   * invalidated, or older still) null. Never waits for a load.
   */
  peek(): ContributorSet | null {
    const c = this.current;
    if (c === null) return null;
    const age = this.now() - c.loadedAt;
    if (age >= 0 && age < this.refreshMs) return c.set;
    if (age >= 0 && age < 2 * this.refreshMs) {
      // a failed background reload is not lost: a reader past the grace period waits for one
      this.loadOnce().catch(() => undefined);
      return c.set;
    }
    return null;
  }

  /**
   * The fresh set; else, for one more `refreshMs` past its refresh time, the current set while a
   * reload runs in the background (no reader waits for the periodic reload); else (none yet, or
   * invalidated, or older still) the running load of this generation or a new one.
   */
  get(): Promise<ContributorSet> {
    const set = this.peek();
    return set !== null ? Promise.resolve(set) : this.loadOnce();
  }

  /** The running load of this generation, or a new one. */
  private loadOnce(): Promise<ContributorSet> {
    const running = this.loading;
    if (running !== null && running.generation === this.generation) return running.promise;
    const generation = this.generation;
    const promise = this.reload(generation).finally(() => {
      if (this.loading?.promise === promise) this.loading = null;
    });
    this.loading = { generation, promise };
    return promise;
  }

  private async reload(generation: number): Promise<ContributorSet> {
    const loadedAt = this.now();
    const loadStep = ++this.step;
    const since = new Date(loadedAt - this.windowMs);
    const until = new Date(loadedAt);
    const { rows, visible } = await this.load(since, until, () => [...this.log.keys()]);
    const set = ContributorSet.of(rows);
    const accounted = new Set<number>();
    for (const [id, entry] of this.log) {
      const at = entry.sample.createdAt.getTime();
      if (at < since.getTime()) continue;
      if (visible.has(id)) {
        // In the rows when stamped inside [since, until]. Stamped later while its commit came after
        // this load began (its request began after the load did, yet committed before the snapshot
        // was taken): visible but outside the rows, so added here.
        const seenAfterStart = entry.committedStep === null || entry.committedStep > loadStep;
        if (at > until.getTime() && seenAfterStart) set.add(entry.sample);
        accounted.add(id);
      } else if (entry.committedStep !== null) {
        // committed after the snapshot was taken
        set.add(entry.sample);
        accounted.add(id);
      }
    }
    this.prune(loadStep, loadedAt, visible, since.getTime());
    if (generation === this.generation) {
      this.current = { set, loadedAt, accounted };
      this.changes += 1;
    }
    return set;
  }

  /**
   * Forgets samples no later load needs to ask about: those this load's snapshot holds that committed
   * before it began, those past the window, and those whose transaction never committed. A sample
   * committed before the load that its snapshot does not hold (a replica behind the primary) is kept
   * and added again by later loads until one holds it.
   */
  private prune(loadStep: number, loadedAt: number, visible: Set<number>, sinceMs: number): void {
    for (const [id, entry] of this.log) {
      const settled = entry.committedStep !== null && entry.committedStep < loadStep && visible.has(id);
      const gone = entry.sample.createdAt.getTime() < sinceMs;
      const abandoned = entry.committedStep === null && loadedAt - entry.addedAt > PENDING_TTL_MS;
      if (settled || gone || abandoned) this.log.delete(id);
    }
  }
}
