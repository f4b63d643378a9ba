import { type ContributorSample, ContributorSet, type ContributorRow } from './contributors';

/** One sample as an incremental read returns it (every counted, non-dust sample; `ok` its account's standing). */
export interface RecentSample extends ContributorSample {
  /** Whether it counts: no account (admins', feeds') or an ACTIVE account not distrusted. */
  ok: boolean;
}

/** What a full load reads, in one database snapshot. */
export interface ContributorLoad {
  rows: ContributorRow[];
  /** Which of the sample ids asked about the snapshot holds (asked after `rows` were read). */
  visible: Set<number>;
  /** The samples of (recentFrom, until], one by one (their ids, so later reads do not count them twice). */
  recent: RecentSample[];
  /** The reference epoch of the snapshot (see ReferenceEpochEntity). */
  epoch: string;
  /** Which of the accounts asked about do not count now (suspended, banned, distrusted). */
  excluded: Set<number>;
}

/** What an incremental step reads, in one database snapshot. */
export interface ContributorStep {
  epoch: string;
  /** Per contributor, the samples of [departFrom, departTo) (they left the window). */
  departed: ContributorRow[];
  /** The samples of (newFrom, newTo], one by one. */
  added: RecentSample[];
  /** How many samples (of any standing) (checkFrom, checkTo] holds, and the sum of their ids. */
  check: { count: number; idSum: number };
}

export interface ContributorLoader {
  /**
   * The contributors of the window [since, until] (rows), the samples of (recentFrom, until] one by
   * one, the epoch and then, in the same snapshot, which of the ids `ids()` returns it holds (ids()
   * is called after the rows were read) and which of the accounts `users()` returns do not count.
   */
  full(q: {
    since: Date;
    until: Date;
    recentFrom: Date;
    ids: () => number[];
    users: () => number[];
  }): Promise<ContributorLoad>;
  /** One incremental step (see ContributorStep), in one snapshot. */
  step(q: {
    departFrom: Date;
    departTo: Date;
    checkFrom: Date;
    checkTo: Date;
    newFrom: Date;
    newTo: Date;
  }): Promise<ContributorStep>;
  /** The samples of (from, to], one by one (a late commit was found there). */
  samples(from: Date, to: Date): Promise<RecentSample[]>;
}

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

interface Current {
  set: ContributorSet;
  /** When the last load or step began (its `until`). */
  loadedAt: number;
  /** The window's start as of the last load or step. */
  since: number;
  /** When the last full load began. */
  fullAt: number;
  epoch: string;
  /**
   * Every sample the set holds or deliberately left out (an account's standing) whose time is past
   * loadedAt - RECENT_MS, by id: a later read that returns one of them again does not count it twice.
   */
  recent: Map<number, { at: number; ok: boolean }>;
}

/** A transaction still open after this long rolled back (or hangs): its sample is forgotten. */
const PENDING_TTL_MS = 60_000;
/**
 * How late (after its own timestamp) another instance's commit may land and still be found by the
 * next step: each step checks the count of this span against what it holds and reads it again when
 * they differ. Later still (a transaction held open past it), the periodic full load finds it.
 */
export const RECENT_MS = 30_000;
/** A full load at least this often: whatever a step could not see (see RECENT_MS) is found by then. */
export const FULL_RELOAD_MS = 10 * 60_000;

/**
 * One direction's contributors over a trailing window, kept live for this instance:
 * - a **full load** reads the window aggregated per contributor (at the start, after invalidate(),
 *   when the reference epoch moved, when the clock jumped, and every FULL_RELOAD_MS);
 * - in between, every `refreshMs` at most, a **step** reads only what changed: the samples added
 *   since the last read one by one, and the samples that left the window aggregated per contributor,
 *   which it takes out. Its cost follows the traffic of one `refreshMs`, not the window's size.
 *   Readers keep the current set while a load or step runs, so none waits for the periodic one;
 * - between loads, every accepted sample this instance commits is added at its commit, so a writer
 *   always reads its own write with no query at all;
 * - exactly once: every sample of the last RECENT_MS is known by id, so a step never counts one it
 *   holds (from a load, a step or this instance's commit); a commit landing late (another instance's
 *   transaction stamped before the last step read its span) is found by comparing the count and id
 *   sum of the span RECENT_MS back with what the set holds there. A full load asks, in its own
 *   snapshot and after reading the aggregate, which samples this instance announced (`pending`) the
 *   snapshot holds: one it holds is counted by the load, one it does not is added at its commit;
 * - a change to samples already counted (an outlier mark, an account's standing, an import stamped in
 *   the past, a restore) moves the reference epoch in its transaction: the next step of every
 *   instance sees it and loads in full. `invalidate()` makes this instance's next reader wait for one.
 */
export class LiveContributors {
  private current: Current | null = null;
  private loading: { generation: number; promise: Promise<ContributorSet> } | null = null;
  private generation = 0;
  private changes = 0;
  private step = 0;
  private readonly log = new Map<number, LogEntry>();
  /** Loads and steps since start, by kind (tests, the bench). */
  readonly loads = { full: 0, step: 0, late: 0 };

  constructor(
    private readonly loader: ContributorLoader,
    private readonly windowMs: number,
    private readonly refreshMs: number,
    private readonly now: () => number,
    private readonly fullReloadMs = FULL_RELOAD_MS,
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
    const at = entry.sample.createdAt.getTime();
    if (c && at >= c.since && !c.recent.has(id)) {
      c.set.add(entry.sample);
      c.recent.set(id, { at, ok: true });
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
    const promise = this.refresh(generation).finally(() => {
      if (this.loading?.promise === promise) this.loading = null;
    });
    this.loading = { generation, promise };
    return promise;
  }

  /** A step when the current set can be brought up to date by one, else a full load. */
  private async refresh(generation: number): Promise<ContributorSet> {
    const c = this.current;
    const now = this.now();
    const stepUsable =
      c !== null &&
      now >= c.loadedAt &&
      now - c.loadedAt < Math.min(this.windowMs / 4, RECENT_MS) &&
      now - c.fullAt < this.fullReloadMs;
    if (c !== null && stepUsable) {
      const set = await this.stepFrom(c, generation, now);
      if (set !== null) return set;
    }
    return this.reload(generation);
  }

  /**
   * Brings `c` forward to `until` in place: out what left the window, in what arrived (and what
   * arrived late in the span RECENT_MS back). Null when it cannot (the epoch moved: a full load).
   */
  private async stepFrom(c: Current, generation: number, until: number): Promise<ContributorSet | null> {
    const since = until - this.windowMs;
    const checkFrom = until - RECENT_MS;
    const s = await this.loader.step({
      departFrom: new Date(c.since),
      departTo: new Date(since),
      checkFrom: new Date(checkFrom),
      checkTo: new Date(c.loadedAt),
      newFrom: new Date(c.loadedAt),
      newTo: new Date(until),
    });
    this.loads.step += 1;
    if (s.epoch !== c.epoch) return null;
    let late: RecentSample[] = [];
    if (!this.matches(c, s.check, checkFrom, c.loadedAt)) {
      // a commit landed in a span already read (or one of ours is not in that snapshot yet): read it again
      late = await this.loader.samples(new Date(checkFrom), new Date(c.loadedAt));
      this.loads.late += 1;
    }
    // invalidated meanwhile: the waiters of this (older) generation get what they had
    if (generation !== this.generation || this.current !== c) return c.set;
    for (const row of s.departed) c.set.removeRow(row);
    for (const sample of [...late, ...s.added]) {
      if (c.recent.has(sample.id)) continue;
      const at = sample.createdAt.getTime();
      c.recent.set(sample.id, { at, ok: sample.ok });
      if (sample.ok && at >= since) c.set.add(sample);
    }
    for (const [id, r] of c.recent) if (r.at <= checkFrom) c.recent.delete(id);
    c.since = since;
    c.loadedAt = until;
    this.changes += 1;
    this.settleLog();
    return c.set;
  }

  /** Whether the span's count and id sum in the database are what `c` holds there. */
  private matches(c: Current, check: { count: number; idSum: number }, from: number, to: number): boolean {
    let count = 0;
    let idSum = 0;
    for (const [id, r] of c.recent) {
      if (r.at > from && r.at <= to) {
        count += 1;
        idSum += id;
      }
    }
    return count === check.count && idSum === check.idSum;
  }

  /** Between full loads, committed samples are in the set: only open transactions stay in the log. */
  private settleLog(): void {
    const now = this.now();
    for (const [id, entry] of this.log) {
      if (entry.committedStep !== null || now - entry.addedAt > PENDING_TTL_MS) this.log.delete(id);
    }
  }

  private async reload(generation: number): Promise<ContributorSet> {
    const loadedAt = this.now();
    const loadStep = ++this.step;
    const since = new Date(loadedAt - this.windowMs);
    const until = new Date(loadedAt);
    const recentFrom = loadedAt - RECENT_MS;
    const { rows, visible, recent, epoch, excluded } = await this.loader.full({
      since,
      until,
      recentFrom: new Date(recentFrom),
      ids: () => [...this.log.keys()],
      users: () => [
        ...new Set(
          [...this.log.values()].flatMap((e) => (e.sample.userId === null ? [] : [e.sample.userId])),
        ),
      ],
    });
    this.loads.full += 1;
    const set = ContributorSet.of(rows);
    const known = new Map<number, { at: number; ok: boolean }>();
    for (const r of recent) known.set(r.id, { at: r.createdAt.getTime(), ok: r.ok });
    for (const [id, entry] of this.log) {
      const at = entry.sample.createdAt.getTime();
      if (at < since.getTime()) continue;
      if (entry.sample.userId !== null && excluded.has(entry.sample.userId)) {
        // its account stopped counting while its transaction ran (a suspension committed first)
        this.log.delete(id);
        continue;
      }
      if (visible.has(id)) {
        // In the rows when stamped inside [since, until]. Stamped later while its commit came after
        // this load began (its request began after the load did, yet committed before the snapshot
        // was taken): visible but outside the rows, so added here.
        const seenAfterStart = entry.committedStep === null || entry.committedStep > loadStep;
        if (at > until.getTime() && seenAfterStart) {
          set.add(entry.sample);
          known.set(id, { at, ok: true });
        }
      } else if (entry.committedStep !== null) {
        // committed after the snapshot was taken
        set.add(entry.sample);
        known.set(id, { at, ok: true });
      }
    }
    this.prune(loadStep, loadedAt, visible, since.getTime());
    if (generation === this.generation) {
      this.current = { set, loadedAt, since: since.getTime(), fullAt: loadedAt, epoch, recent: known };
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
