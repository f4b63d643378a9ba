/**
 * The accepted samples of one direction and window, by contributor: the input of the reference rate
 * and of the outlier baseline, which both count each contributor once, so that many samples from
 * one account can neither move nor widen them.
 *
 * Contributors: an account (its transaction records and the trades it made as maker) counts once,
 * with the volume-weighted average of its samples of at least RATE_MIN_SAMPLE_USD (smaller ones are
 * dust: they count for nothing). Samples without an account (admins' `manual` ones and imported
 * `feed` ones) are trusted market observations: each one is a contributor of its own.
 */

/** One row of the per-contributor aggregate (as RatesRepository.contributorRows reads it). */
export interface ContributorRow {
  /** The account, or null for a group of trusted samples of one rate (each one a contributor). */
  userId: number | null;
  /** A trusted group's common rate (null for an account). */
  rate: number | null;
  samples: number;
  /** Sum of USD volume (minor units) of an account's samples. */
  volume: number;
  /** Sum of rate × USD volume of an account's samples. */
  rateVolume: number;
  newestAt: Date;
}

/** One accepted sample, as a change to the set (the live snapshot applies these after commits). */
export interface ContributorSample {
  id: number;
  userId: number | null;
  rate: number;
  volume: number;
  createdAt: Date;
}

/** The robust centre of a set of contributors. */
export interface Centre {
  /** Median over contributors (each counts once), null when there are none. */
  median: number | null;
  /** Median absolute deviation from that median, over contributors. */
  mad: number | null;
  contributors: number;
  /** Accepted, non-dust samples behind them. */
  samples: number;
}

interface Account {
  samples: number;
  volume: number;
  rateVolume: number;
}

interface Weighted {
  value: number;
  weight: number;
}

/** Median of a sorted weighted list, as of the list expanded (even totals: the mean of the two middle values). */
function weightedMedian(sorted: Weighted[]): number | null {
  const total = sorted.reduce((a, w) => a + w.weight, 0);
  if (total === 0) return null;
  const lowIndex = Math.floor((total - 1) / 2); // 0-based positions of the middle value(s)
  const highIndex = Math.floor(total / 2);
  let seen = 0;
  let low: number | null = null;
  for (const w of sorted) {
    const last = seen + w.weight - 1;
    if (low === null && lowIndex <= last) low = w.value;
    if (highIndex <= last) return ((low ?? w.value) + w.value) / 2;
    seen += w.weight;
  }
  return low;
}

/** The first index of an ascending list whose value passes `past` (monotone), by binary search. */
function firstIndex(sorted: Weighted[], past: (value: number) => boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (past(sorted[mid].value)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * |value - m| of an ascending list, ascending, in one pass: the deviations fall going left from m
 * and rise going right of it, so the two runs are merged outward from m.
 */
function sortedDeviations(sorted: Weighted[], m: number): Weighted[] {
  let right = firstIndex(sorted, (v) => v >= m);
  let left = right - 1;
  const out: Weighted[] = new Array<Weighted>(sorted.length);
  for (let k = 0; k < out.length; k++) {
    const l = left >= 0 ? m - sorted[left].value : Infinity;
    const r = right < sorted.length ? sorted[right].value - m : Infinity;
    if (l <= r) out[k] = { value: l, weight: sorted[left--].weight };
    else out[k] = { value: r, weight: sorted[right++].weight };
  }
  return out;
}

/** centre() results kept per set (one per excluded account); past it they start over. */
const MAX_CACHED_CENTRES = 1000;

export class ContributorSet {
  private readonly accounts = new Map<number, Account>();
  /** Trusted samples by rate: how many contributors have each rate. */
  private readonly trusted = new Map<number, number>();
  private sampleCount = 0;
  private newest: Date | null = null;
  private sorted: Weighted[] | null = null;
  /**
   * centre() results by excluded account ('' for none), kept until a contributor's value or weight
   * changes: a sample at an account's own average (the usual repeat) changes neither, so the median
   * and MAD are not recomputed per request. Sample counts are read fresh.
   */
  private readonly centres = new Map<
    string,
    { median: number | null; mad: number | null; contributors: number }
  >();

  static of(rows: ContributorRow[]): ContributorSet {
    const set = new ContributorSet();
    for (const r of rows) set.addRow(r);
    return set;
  }

  get samples(): number {
    return this.sampleCount;
  }

  get newestAt(): Date | null {
    return this.newest;
  }

  get contributors(): number {
    let n = this.accounts.size;
    for (const count of this.trusted.values()) n += count;
    return n;
  }

  addRow(r: ContributorRow): void {
    let changed = true;
    if (r.userId === null) {
      if (r.rate === null) throw new Error('a trusted group needs its rate');
      const before = this.trusted.get(r.rate) ?? 0;
      this.trusted.set(r.rate, before + r.samples);
      if (before > 0) this.removeValue(r.rate, before);
      this.insertValue(r.rate, before + r.samples);
    } else {
      const known = this.accounts.get(r.userId);
      const a = known ?? { samples: 0, volume: 0, rateVolume: 0 };
      const before = a.volume > 0 ? a.rateVolume / a.volume : null;
      a.samples += r.samples;
      a.volume += r.volume;
      a.rateVolume += r.rateVolume;
      this.accounts.set(r.userId, a);
      const after = a.volume > 0 ? a.rateVolume / a.volume : null;
      changed = !known || before !== after;
      if (before !== after) {
        if (before !== null) this.removeValue(before, 1);
        if (after !== null) this.insertValue(after, 1);
      }
    }
    this.sampleCount += r.samples;
    if (this.newest === null || r.newestAt > this.newest) this.newest = r.newestAt;
    if (changed) this.centres.clear();
  }

  /**
   * The sorted list is kept up to date in place (a binary search and a splice per change) once it
   * exists, instead of being rebuilt and sorted: every new sample moves its account's average.
   * Entries equal in value and weight are interchangeable, so which one is removed does not matter.
   */
  private insertValue(value: number, weight: number): void {
    this.sorted?.splice(
      firstIndex(this.sorted, (v) => v > value),
      0,
      { value, weight },
    );
  }

  private removeValue(value: number, weight: number): void {
    const s = this.sorted;
    if (!s) return;
    for (let i = firstIndex(s, (v) => v >= value); i < s.length && s[i].value === value; i++) {
      if (s[i].weight === weight) {
        s.splice(i, 1);
        return;
      }
    }
    this.sorted = null; // cannot happen; rebuilt on the next read if it does
  }

  /**
   * Takes out what `r` added (samples that left the window, aggregated per contributor as the load
   * reads them). A contributor whose samples are all gone is gone. When the newest sample left too,
   * the set is empty (the newest is the last to leave), so it has no newest time any more.
   */
  removeRow(r: ContributorRow): void {
    if (r.samples <= 0) return;
    if (r.userId === null) {
      if (r.rate === null) throw new Error('a trusted group needs its rate');
      const before = this.trusted.get(r.rate) ?? 0;
      const taken = Math.min(before, r.samples);
      if (taken === 0) return;
      this.removeValue(r.rate, before);
      if (before - taken > 0) {
        this.trusted.set(r.rate, before - taken);
        this.insertValue(r.rate, before - taken);
      } else this.trusted.delete(r.rate);
      this.sampleCount -= taken;
    } else {
      const a = this.accounts.get(r.userId);
      if (!a) return;
      const before = a.volume > 0 ? a.rateVolume / a.volume : null;
      const taken = Math.min(a.samples, r.samples);
      a.samples -= taken;
      a.volume -= r.volume;
      a.rateVolume -= r.rateVolume;
      if (a.samples === 0 || a.volume <= 0) {
        // gone (a volume left without samples is rounding: nothing real remains)
        this.accounts.delete(r.userId);
        if (before !== null) this.removeValue(before, 1);
      } else {
        const after = a.rateVolume / a.volume;
        if (before !== after) {
          if (before !== null) this.removeValue(before, 1);
          this.insertValue(after, 1);
        }
      }
      this.sampleCount -= taken;
    }
    if (this.sampleCount <= 0) {
      this.sampleCount = 0;
      this.newest = null;
    }
    this.centres.clear();
  }

  /** Adds one accepted sample (a commit this instance made after the set was read). */
  add(s: ContributorSample): void {
    this.addRow({
      userId: s.userId,
      rate: s.userId === null ? s.rate : null,
      samples: 1,
      volume: s.volume,
      rateVolume: s.rate * s.volume,
      newestAt: s.createdAt,
    });
  }

  /** Each contributor's value with its weight (an account 1, a trusted rate its count), ascending. */
  private values(): Weighted[] {
    if (this.sorted) return this.sorted;
    const out: Weighted[] = [];
    for (const a of this.accounts.values()) {
      if (a.volume > 0) out.push({ value: a.rateVolume / a.volume, weight: 1 });
    }
    for (const [rate, count] of this.trusted) out.push({ value: rate, weight: count });
    out.sort((x, y) => x.value - y.value);
    this.sorted = out;
    return out;
  }

  /** Median and MAD over contributors; `excludeUserId`'s account left out (its own baseline). */
  centre(excludeUserId?: number | null): Centre {
    const own = excludeUserId == null ? undefined : this.accounts.get(excludeUserId);
    const counted = own !== undefined && own.volume > 0;
    const samples = this.sampleCount - (counted ? own.samples : 0);
    const key = counted ? String(excludeUserId) : '';
    let c = this.centres.get(key);
    if (!c) {
      c = this.compute(counted ? own : undefined);
      if (this.centres.size >= MAX_CACHED_CENTRES) this.centres.clear();
      this.centres.set(key, c);
    }
    return { ...c, samples };
  }

  private compute(own: Account | undefined): {
    median: number | null;
    mad: number | null;
    contributors: number;
  } {
    let values = this.values();
    let contributors = this.contributors;
    if (own) {
      const mine = own.rateVolume / own.volume;
      const at = values.findIndex((w) => w.weight === 1 && w.value === mine);
      values = at === -1 ? values : [...values.slice(0, at), ...values.slice(at + 1)];
      contributors -= 1;
    }
    const median = weightedMedian(values);
    if (median === null) return { median: null, mad: null, contributors };
    return { median, mad: weightedMedian(sortedDeviations(values, median)), contributors };
  }
}
