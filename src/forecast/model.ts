/**
 * The forecasting model: an equal-weight combination, on the logarithm of the rate, of three simple
 * forecasts that each see the series differently:
 * - the naive forecast ("the next buckets = the last one"): what a random walk, which daily closes of
 *   an exchange rate nearly are, makes optimal;
 * - damped-trend exponential smoothing (Holt's linear method with a damped trend, ETS(A,Ad,N)): a
 *   smoothed level and a drift that fades, for sampling noise (hourly buckets of people's records)
 *   and persistent devaluation trends;
 * - an AR(2) model of the bucket-to-bucket log changes over the last year (least squares): the short
 *   momentum and overshoot of crisis markets (the Argentine blue dollar's daily changes have a lag-1
 *   autocorrelation of +0.14 and a lag-2 one of -0.11).
 * Averaging forecasts is the most reliable gain the forecasting competitions found (M3, M4): the
 * combination is never far from the random walk where the other two have nothing to add, and takes
 * their help where they do. docs/FORECAST.md has the measurements on real series.
 *
 * - Logs: a parallel-market rate moves by percentages, so a trend in logs is a steady percentage
 *   drift, and errors scale with the level.
 * - Missing buckets (hours or days without samples) are skipped: the smoothing state moves on by its
 *   trend without an update, exactly as a forecast would, and the AR reads the changes between
 *   consecutive observed buckets, so gaps need no filling.
 * - ETS parameters (alpha: level, beta: trend, phi: damping) are chosen on a grid by the squared log
 *   errors at 1 step and at `k` steps ahead (k = the horizon asked for, at most 14).
 * - Intervals: the empirical 10/90% and 2.5/97.5% quantiles of the combination's own h-step log errors
 *   over the recent history (the last 180 origins), widened to be monotone in h; where too few errors
 *   exist for a long horizon, the widths of the longest well-sampled horizon grow with sqrt(h). No
 *   normality is assumed: crisis series have fat tails and skew.
 *
 * Everything here is pure and synchronous; ForecastService caches its results.
 */

export interface Params {
  alpha: number;
  beta: number;
  phi: number;
}

export interface Interval {
  /** Forecast (median) on the rate's scale. */
  mid: number;
  low80: number;
  high80: number;
  low95: number;
  high95: number;
}

export interface BacktestResult {
  /** Mean absolute percentage error of the model over every window and step with an actual. */
  mapePercent: number | null;
  naiveMapePercent: number | null;
  /** Share of actuals inside the model's 80% interval. */
  coverage80Percent: number | null;
  /** Windows (forecast origins) used. */
  windows: number;
  /** Errors compared. */
  points: number;
  /** MAPE per step ahead (1-based index), model and naive. */
  byHorizon: { h: number; mape: number | null; naiveMape: number | null; n: number }[];
}

const ALPHAS = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
const BETAS = [0, 0.01, 0.03, 0.06, 0.1, 0.2];
const PHIS = [0.8, 0.9, 0.95, 0.98, 1];
/** Errors of the first observations are left out of the fit (the state is still settling). */
const BURN_IN = 3;
/** Recent origins whose errors make the intervals. */
const INTERVAL_ORIGINS = 180;
/** Fewer errors than this for a step: its widths come from a shorter step's, scaled by sqrt(h). */
const MIN_ERRORS = 20;
const MAX_FIT_STEPS = 14;

interface State {
  level: Float64Array;
  trend: Float64Array;
  /** Index of the first observation. */
  first: number;
}

/** Runs the filter over log values (NaN = missing): level and trend after each bucket. */
function run(y: Float64Array, p: Params): State {
  const n = y.length;
  const level = new Float64Array(n);
  const trend = new Float64Array(n);
  let first = 0;
  while (first < n && Number.isNaN(y[first])) first++;
  let l = first < n ? y[first] : 0;
  let b = 0;
  for (let t = 0; t < n; t++) {
    if (t > first) {
      const predicted = l + p.phi * b;
      if (Number.isNaN(y[t])) {
        l = predicted;
        b = p.phi * b;
      } else {
        const e = y[t] - predicted;
        l = predicted + p.alpha * e;
        b = p.phi * b + p.beta * e;
      }
    }
    level[t] = l;
    trend[t] = b;
  }
  return { level, trend, first };
}

/** phi + phi^2 + ... + phi^h. */
function dampedSum(phi: number, h: number): number {
  if (phi === 1) return h;
  return (phi * (1 - phi ** h)) / (1 - phi);
}

/** Sum of squared log errors at 1 and k steps ahead over the fitting range (origins up to `end`). */
function fitError(y: Float64Array, s: State, p: Params, k: number, end: number): number {
  const sk = dampedSum(p.phi, k);
  const s1 = p.phi;
  let sse = 0;
  let seen = 0;
  for (let t = s.first; t < end; t++) {
    if (!Number.isNaN(y[t])) seen++;
    if (seen <= BURN_IN) continue;
    if (t + 1 < end && !Number.isNaN(y[t + 1])) {
      const e = y[t + 1] - (s.level[t] + s1 * s.trend[t]);
      sse += e * e;
    }
    if (k > 1 && t + k < end && !Number.isNaN(y[t + k])) {
      const e = y[t + k] - (s.level[t] + sk * s.trend[t]);
      sse += e * e;
    }
  }
  return sse;
}

/** The parameters of the grid with the least fit error on y[0..end). */
export function fit(y: Float64Array, horizon: number, end = y.length): Params {
  const k = Math.max(1, Math.min(horizon, MAX_FIT_STEPS));
  const part = end === y.length ? y : y.subarray(0, end);
  let best: Params = { alpha: 1, beta: 0, phi: 1 };
  let bestError = Infinity;
  for (const alpha of ALPHAS) {
    for (const beta of BETAS) {
      if (beta > alpha) continue;
      for (const phi of PHIS) {
        if (beta === 0 && phi !== 1) continue; // no trend: damping means nothing
        const p = { alpha, beta, phi };
        const err = fitError(part, run(part, p), p, k, part.length);
        // ties keep the simpler model found first (smaller alpha is visited first; naive is alpha 1)
        if (err < bestError - 1e-15) {
          bestError = err;
          best = p;
        }
      }
    }
  }
  return best;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** AR(2) coefficients of the log changes between consecutive observed buckets (last year's). */
const AR_ORDER = 2;
const AR_WINDOW = 365;

export interface ArModel {
  coef: number[];
}

/** The observed buckets before `end`: their positions and log values. */
function observedBefore(y: Float64Array, end: number): { at: number[]; v: number[] } {
  const at: number[] = [];
  const v: number[] = [];
  for (let i = 0; i < end; i++) {
    if (!Number.isNaN(y[i])) {
      at.push(i);
      v.push(y[i]);
    }
  }
  return { at, v };
}

/** Least squares AR(2) (no constant) on the last AR_WINDOW changes; zeros when too few or singular. */
export function fitAr(changes: number[]): ArModel {
  const d = changes.slice(-AR_WINDOW);
  if (d.length < 3 * AR_ORDER + 10) return { coef: [0, 0] };
  let s11 = 0;
  let s12 = 0;
  let s22 = 0;
  let r1 = 0;
  let r2 = 0;
  for (let t = AR_ORDER; t < d.length; t++) {
    const x1 = d[t - 1];
    const x2 = d[t - 2];
    s11 += x1 * x1;
    s12 += x1 * x2;
    s22 += x2 * x2;
    r1 += x1 * d[t];
    r2 += x2 * d[t];
  }
  const det = s11 * s22 - s12 * s12;
  if (!(Math.abs(det) > 1e-300)) return { coef: [0, 0] };
  const a1 = (r1 * s22 - r2 * s12) / det;
  const a2 = (r2 * s11 - r1 * s12) / det;
  // an explosive fit (a crisis' one-off jump) would run away over a long horizon: none then
  const stationary = Math.abs(a2) < 1 && a2 + a1 < 1 && a2 - a1 < 1;
  return { coef: stationary ? [a1, a2] : [0, 0] };
}

/** The AR's cumulative log changes 1..horizon after the last two changes `d1` (latest), `d2`. */
function arPath(m: ArModel, d1: number, d2: number, horizon: number): Float64Array {
  const out = new Float64Array(horizon);
  let [a, b] = [d1, d2];
  let sum = 0;
  for (let h = 0; h < horizon; h++) {
    const next = m.coef[0] * a + m.coef[1] * b;
    sum += next;
    out[h] = sum;
    b = a;
    a = next;
  }
  return out;
}

/** The combination's log forecasts 1..horizon from origin t (the state after bucket t). */
function combined(
  s: State,
  p: Params,
  ar: ArModel,
  last: number,
  d1: number,
  d2: number,
  t: number,
  horizon: number,
): Float64Array {
  const path = arPath(ar, d1, d2, horizon);
  const out = new Float64Array(horizon);
  for (let h = 1; h <= horizon; h++) {
    const ets = s.level[t] + dampedSum(p.phi, h) * s.trend[t];
    out[h - 1] = (last + ets + (last + path[h - 1])) / 3;
  }
  return out;
}

/**
 * Log-error quantiles per step 1..horizon of the combination at the recent origins before `end`:
 * [q2.5, q10, q90, q97.5], monotone in h.
 */
function errorBands(
  y: Float64Array,
  s: State,
  p: Params,
  ar: ArModel,
  horizon: number,
  end: number,
): number[][] {
  const { at, v } = observedBefore(y, end);
  const perH: number[][] = Array.from({ length: horizon }, () => []);
  const firstK = Math.max(3, at.length - INTERVAL_ORIGINS - horizon);
  for (let k = firstK; k < at.length - 1; k++) {
    const t = at[k];
    const f = combined(s, p, ar, v[k], v[k] - v[k - 1], v[k - 1] - v[k - 2], t, horizon);
    for (let h = 1; h <= horizon && t + h < end; h++) {
      if (!Number.isNaN(y[t + h])) perH[h - 1].push(y[t + h] - f[h - 1]);
    }
  }
  const bands: number[][] = [];
  let lastGood: { h: number; band: number[] } | null = null;
  for (let h = 1; h <= horizon; h++) {
    const errors = perH[h - 1];
    let band: number[];
    if (errors.length >= MIN_ERRORS || lastGood === null) {
      errors.sort((a, b) => a - b);
      band = [quantile(errors, 0.025), quantile(errors, 0.1), quantile(errors, 0.9), quantile(errors, 0.975)];
      if (errors.length >= MIN_ERRORS) lastGood = { h, band };
    } else {
      const f = Math.sqrt(h / lastGood.h);
      band = lastGood.band.map((x) => x * f);
    }
    const prev = bands[h - 2];
    if (prev)
      band = [
        Math.min(band[0], prev[0]),
        Math.min(band[1], prev[1]),
        Math.max(band[2], prev[2]),
        Math.max(band[3], prev[3]),
      ];
    bands.push(band);
  }
  return bands;
}

export interface Forecast {
  params: Params;
  ar: ArModel;
  /** One per step ahead, 1..horizon. */
  points: Interval[];
}

/**
 * The forecast for the `horizon` buckets after y[end - 1] (default: after the last bucket), from the
 * buckets before `end` only. The last bucket before `end` must have data.
 */
export function forecast(values: (number | null)[], horizon: number, end = values.length): Forecast {
  const y = Float64Array.from(values.slice(0, end), (v) => (v !== null && v > 0 ? Math.log(v) : Number.NaN));
  const params = fit(y, horizon);
  const s = run(y, params);
  const { v } = observedBefore(y, end);
  const changes: number[] = [];
  for (let i = 1; i < v.length; i++) changes.push(v[i] - v[i - 1]);
  const ar = fitAr(changes);
  const bands = errorBands(y, s, params, ar, horizon, end);
  const k = v.length - 1;
  const centre = combined(
    s,
    params,
    ar,
    v[k],
    k >= 1 ? v[k] - v[k - 1] : 0,
    k >= 2 ? v[k - 1] - v[k - 2] : 0,
    end - 1,
    horizon,
  );
  const points: Interval[] = [];
  for (let h = 1; h <= horizon; h++) {
    const c = centre[h - 1];
    const [q025, q10, q90, q975] = bands[h - 1];
    points.push({
      mid: Math.exp(c),
      low80: Math.exp(c + Math.min(0, q10)),
      high80: Math.exp(c + Math.max(0, q90)),
      low95: Math.exp(c + Math.min(0, q025)),
      high95: Math.exp(c + Math.max(0, q975)),
    });
  }
  return { params, ar, points };
}

/** A readable name of the model with its fitted parameters. */
export function describeModel(f: Pick<Forecast, 'params' | 'ar'>): string {
  const p = f.params;
  const r = (x: number): string => String(Math.round(x * 1000) / 1000);
  return (
    `combination (mean in logs) of naive, damped-trend exponential smoothing (alpha ${r(p.alpha)}, beta ${r(p.beta)}, ` +
    `phi ${r(p.phi)}) and AR(2) of log changes (${r(f.ar.coef[0])}, ${r(f.ar.coef[1])})`
  );
}

/**
 * Rolling-origin backtest: at each of up to `maxWindows` origins spread over the second half of the
 * series (each with `horizon` buckets after it), the model is fitted on the buckets up to the origin
 * only and forecasts the next `horizon`; the naive forecast says the last observed value. Both are
 * scored on the same actuals (buckets with data).
 */
export function backtest(values: (number | null)[], horizon: number, maxWindows = 30): BacktestResult {
  const n = values.length;
  const observed: number[] = [];
  values.forEach((v, i) => {
    if (v !== null && v > 0) observed.push(i);
  });
  const minTrain = Math.max(24, Math.floor(observed.length / 2));
  const candidates = observed.filter((i, k) => k >= minTrain - 1 && i + horizon < n);
  const step = Math.max(1, Math.ceil(candidates.length / maxWindows));
  const origins: number[] = [];
  for (let k = candidates.length - 1; k >= 0 && origins.length < maxWindows; k -= step)
    origins.push(candidates[k]);
  origins.reverse();

  const byH = Array.from({ length: horizon }, () => ({ err: 0, naive: 0, n: 0 }));
  let inside = 0;
  let total = 0;
  let errSum = 0;
  let naiveSum = 0;
  for (const o of origins) {
    const f = forecast(values, horizon, o + 1);
    const last = values[o] as number;
    for (let h = 1; h <= horizon; h++) {
      const actual = values[o + h];
      if (actual === null || actual === undefined || actual <= 0) continue;
      const p = f.points[h - 1];
      const e = Math.abs(p.mid - actual) / actual;
      const en = Math.abs(last - actual) / actual;
      byH[h - 1].err += e;
      byH[h - 1].naive += en;
      byH[h - 1].n += 1;
      errSum += e;
      naiveSum += en;
      total += 1;
      if (actual >= p.low80 && actual <= p.high80) inside += 1;
    }
  }
  const pct = (x: number, d: number): number | null => (d === 0 ? null : (x / d) * 100);
  return {
    mapePercent: pct(errSum, total),
    naiveMapePercent: pct(naiveSum, total),
    coverage80Percent: pct(inside, total),
    windows: origins.length,
    points: total,
    byHorizon: byH.map((x, i) => ({ h: i + 1, mape: pct(x.err, x.n), naiveMape: pct(x.naive, x.n), n: x.n })),
  };
}
