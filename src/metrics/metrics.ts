import { Counter, collectDefaultMetrics, Gauge, Histogram, type Metric, Registry } from 'prom-client';

/**
 * The process's Prometheus metrics (prom-client). Process-wide, as Prometheus scrapes processes:
 * features count their events here; MetricsService adds the gauges read from the running app and
 * serves the text format at GET /metrics. Labels are bounded sets (route templates, never raw
 * URLs or ids; enums; job names), so the number of series cannot grow with traffic.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const METRICS = {
  transactions: new Counter({
    name: 'exchange_transactions_recorded_total',
    help: 'Transaction records accepted, by direction',
    labelNames: ['direction'] as const,
    registers: [registry],
  }),
  conversions: new Counter({
    name: 'exchange_conversions_total',
    help: 'Conversions against the house, by the currency given',
    labelNames: ['from_currency'] as const,
    registers: [registry],
  }),
  trades: new Counter({ name: 'exchange_trades_total', help: 'P2P trades settled', registers: [registry] }),
  alertsFired: new Counter({
    name: 'exchange_alerts_fired_total',
    help: 'Rate alerts fired',
    registers: [registry],
  }),
  notifications: new Counter({
    name: 'exchange_notifications_created_total',
    help: 'Notifications stored, by event type',
    labelNames: ['event_type'] as const,
    registers: [registry],
  }),
  outliers: new Counter({
    name: 'exchange_outliers_flagged_total',
    help: 'Rates flagged by the outlier guard: refused (records, offers) or stored marked (admin, feed, trades)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  }),
  loginFailures: new Counter({
    name: 'exchange_login_failures_total',
    help: 'Failed logins and step-up password checks, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  }),
  rateLimitHits: new Counter({
    name: 'exchange_rate_limit_hits_total',
    help: 'Requests refused by a rate limit (429), by limit group',
    labelNames: ['group'] as const,
    registers: [registry],
  }),
  jobRuns: new Counter({
    name: 'exchange_scheduler_job_runs_total',
    help: 'Scheduled job runs by job and outcome (ok, failed, skipped: another instance held the lease or a restore ran)',
    labelNames: ['job', 'outcome'] as const,
    registers: [registry],
  }),
  jobDuration: new Histogram({
    name: 'exchange_scheduler_job_duration_seconds',
    help: 'Scheduled job duration by job and outcome',
    labelNames: ['job', 'outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
    registers: [registry],
  }),
  streamEvents: new Counter({
    name: 'exchange_stream_events_total',
    help: 'Events written to live streams (GET /stream), by type',
    labelNames: ['type'] as const,
    registers: [registry],
  }),
  dbReads: new Counter({
    name: 'exchange_db_routed_reads_total',
    help: 'Read-only work routed by ReadReplica, by where it ran (replica or primary)',
    labelNames: ['target'] as const,
    registers: [registry],
  }),
  referenceLoads: new Counter({
    name: 'exchange_reference_loads_total',
    help: 'Reads of the live reference: full (the whole window), step (only what arrived and left since the last), late (a span read again for a late commit)',
    labelNames: ['kind'] as const,
    registers: [registry],
  }),
  dbFailovers: new Counter({
    name: 'exchange_db_cluster_failovers_total',
    help: 'Moves of the writes from one Galera node to another (a node lost, or a preferred node back)',
    registers: [registry],
  }),
  connectionsOpen: new Gauge({
    name: 'exchange_http_connections_open',
    help: 'HTTP connections open now (this process)',
    registers: [registry],
  }),
  connectionsRefused: new Counter({
    name: 'exchange_http_connections_refused_total',
    help: 'Connections closed as they arrived (or requests refused, from a trusted proxy) by a cap: per_client (MAX_CONNECTIONS_PER_IP) or total (MAX_CONNECTIONS)',
    labelNames: ['reason'],
    registers: [registry],
  }),
  connectionsTimedOut: new Counter({
    name: 'exchange_http_connections_timed_out_total',
    help: 'Connections closed by a timeout: headers (HEADERS_TIMEOUT_MS), body (REQUEST_TIMEOUT_MS) or keep_alive (KEEP_ALIVE_TIMEOUT_MS)',
    labelNames: ['phase'],
    registers: [registry],
  }),
  webhookAttempts: new Counter({
    name: 'exchange_webhook_attempts_total',
    help: 'Webhook delivery attempts by outcome (success: a 2xx answer)',
    labelNames: ['outcome'],
    registers: [registry],
  }),
  webhookDeliveries: new Counter({
    name: 'exchange_webhook_deliveries_total',
    help: 'Webhook deliveries ended: delivered, or failed after WEBHOOK_MAX_ATTEMPTS',
    labelNames: ['status'],
    registers: [registry],
  }),
  webhookLag: new Histogram({
    name: 'exchange_webhook_delivery_lag_seconds',
    help: 'From the event to its successful delivery (retries included)',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 1800, 7200, 86400],
    registers: [registry],
  }),
  leaseHeld: new Gauge({
    name: 'exchange_scheduler_lease_held',
    help: 'Whether this instance holds a job lease now (1) or not (0)',
    labelNames: ['job'] as const,
    registers: [registry],
  }),
};
// every kind from the start (a series that appears later looks like a new one to alerting)
for (const kind of ['full', 'step', 'late']) METRICS.referenceLoads.inc({ kind }, 0);

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** One label set's answered requests, as plain numbers (the hot path only adds to them). */
interface RequestSeries {
  labels: { method: string; route: string; status_class: string };
  count: number;
  /** Seconds, summed. */
  sum: number;
  /** Answers per latency bucket (not cumulative; the last slot: above every bound). */
  buckets: number[];
}
/** One line of a family's exposition, as prom-client's metrics give them. */
interface FamilyValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}
/** Every label set seen (bounded: methods x routes x classes), by `${method} ${class} ${route}`. */
const series = new Map<string, RequestSeries>();

/**
 * A request family as prom-client's registry reads a metric (name, help, type, get()), exposed in
 * the same text and JSON as prom-client's own Counter and Histogram give. Counted with plain
 * additions on each answer: prom-client's labelled children validate and hash their labels on every
 * inc() and observe(), a few per cent of the cheapest route's CPU (the cached GET /exchangeRate).
 * test/metrics.e2e-spec.ts reads the exposition.
 */
class RequestFamily {
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: FamilyValue[] }> {
    const values: FamilyValue[] = [];
    for (const s of series.values()) {
      if (this.type === 'counter') {
        values.push({ labels: { ...s.labels }, value: s.count });
        continue;
      }
      let acc = 0;
      LATENCY_BUCKETS.forEach((le, i) => {
        acc += s.buckets[i];
        values.push({ labels: { ...s.labels, le }, value: acc, metricName: `${this.name}_bucket` });
      });
      values.push(
        { labels: { ...s.labels, le: '+Inf' }, value: s.count, metricName: `${this.name}_bucket` },
        { labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` },
        { labels: { ...s.labels }, value: s.count, metricName: `${this.name}_count` },
      );
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    });
  }

  reset(): void {
    series.clear();
  }
}

/** The two request families (their series are shared: one answer counts in both). */
export const REQUEST_METRICS = {
  httpRequests: new RequestFamily(
    'http_requests_total',
    'HTTP requests by method, route template and status class',
    'counter',
  ),
  httpDuration: new RequestFamily(
    'http_request_duration_seconds',
    'HTTP request latency by method, route template and status class',
    'histogram',
  ),
};

/** Counts one answered request, by route template (`unmatched` without a route: never the URL). */
export function observeRequest(method: string, route: string | undefined, status: number, ms: number): void {
  const m = KNOWN_METHODS.has(method) ? method : 'OTHER';
  const r = route ?? 'unmatched';
  const cls = Math.min(Math.max(Math.floor(status / 100), 1), 5);
  const key = `${m} ${cls} ${r}`;
  let s = series.get(key);
  if (!s) {
    s = {
      labels: { method: m, route: r, status_class: `${cls}xx` },
      count: 0,
      sum: 0,
      buckets: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0),
    };
    series.set(key, s);
  }
  const seconds = ms / 1000;
  let i = 0;
  while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]) i++;
  s.buckets[i] += 1;
  s.count += 1;
  s.sum += seconds;
}

/** A gauge's reading at scrape time: one value, or one per label set. */
export type GaugeReading = number | { labels: Record<string, string>; value: number }[];
type Reader = () => Promise<GaugeReading> | GaugeReading;
const readers = new Map<string, Reader>();

/**
 * A gauge read from the running app when scraped (open offers, the database pool, ...). Registering
 * the same name again replaces its reader (one app per process; tests start several in turn). A
 * reader that fails (the database is down) leaves the gauge empty for that scrape.
 */
export function readGauge(name: string, help: string, labelNames: string[], read: Reader): void {
  readers.set(name, read);
  if (registry.getSingleMetric(name)) return;
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      let reading: GaugeReading;
      try {
        reading = (await readers.get(name)?.()) ?? [];
      } catch {
        return;
      }
      if (typeof reading === 'number') this.set(reading);
      else for (const r of reading) this.set(r.labels, r.value);
    },
  });
}
