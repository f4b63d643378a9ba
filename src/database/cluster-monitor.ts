import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createConnection, type Connection } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig, type DatabaseConfig, type ReplicaConfig } from '../config/app-config';
import { METRICS, readGauge } from '../metrics/metrics';

/** What one probe of a Galera node found. */
export interface NodeState {
  /** Whether writes may go to this node now: it answers, is in the primary component and Synced. */
  healthy: boolean;
  /** Why not, for logs ("connect ECONNREFUSED", "Donor/Desynced", "non-Primary"). */
  problem: string | null;
}

interface StatusRow {
  Variable_name: string;
  Value: string;
}

const PROBE_SQL =
  "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_cluster_status', 'wsrep_local_state_comment')";

/**
 * Reads a node's Galera state over `conn`: healthy when `wsrep_ready` is ON, the node is in the
 * Primary component and Synced (a Donor, Joiner or a node cut off from the majority takes no writes).
 * A server without Galera (no wsrep status) is a plain server: healthy when it answers.
 */
export async function probeNode(conn: Connection, timeoutMs: number): Promise<NodeState> {
  const [rows] = await conn.query({ sql: PROBE_SQL, timeout: timeoutMs });
  const status = new Map((rows as StatusRow[]).map((r) => [r.Variable_name.toLowerCase(), r.Value]));
  if (status.size === 0) return { healthy: true, problem: null };
  if (status.get('wsrep_ready') !== 'ON') return { healthy: false, problem: 'wsrep_ready is OFF' };
  if (status.get('wsrep_cluster_status') !== 'Primary')
    return { healthy: false, problem: `${status.get('wsrep_cluster_status') ?? 'unknown'} component` };
  const state = status.get('wsrep_local_state_comment') ?? 'unknown';
  if (state !== 'Synced') return { healthy: false, problem: state };
  return { healthy: true, problem: null };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function nodeName(n: { host: string; port: number }): string {
  return `${n.host}:${n.port}`;
}

function open(node: ReplicaConfig, timeoutMs: number): Promise<Connection> {
  return createConnection({
    host: node.host,
    port: node.port,
    user: node.user,
    password: node.password,
    connectTimeout: timeoutMs,
  });
}

/** How long one probe may take: a node that does not answer within it counts as lost. */
function probeTimeout(db: DatabaseConfig): number {
  return Math.max(200, Math.min(2000, Math.floor((db.failoverSeconds * 1000) / 5)));
}

/**
 * The node the service starts on: the first healthy one in DB_CLUSTER_URLS (so every instance picks
 * the same), or the first when none answers yet (the connection attempts then fail and retry).
 */
export async function pickStartNode(db: DatabaseConfig): Promise<ReplicaConfig> {
  const timeout = probeTimeout(db);
  for (const node of db.cluster) {
    let conn: Connection | null = null;
    try {
      conn = await open(node, timeout);
      if ((await probeNode(conn, timeout)).healthy) return node;
    } catch {
      // the next one
    } finally {
      conn?.destroy();
    }
  }
  return db.cluster[0];
}

/** The parts of TypeORM's MySQL driver and mysql2's callback pool this class swaps and drains. */
interface PoolConnection {
  query(sql: string, cb: (err: unknown) => void): void;
  /** mysql2's socket (destroyed to fail the connection's pending queries at once). */
  stream?: { destroy(err?: Error): void };
}
interface Pool {
  end(cb?: (err?: unknown) => void): void;
  on(event: 'connection', cb: (conn: PoolConnection) => void): void;
  _allConnections?: { length: number; toArray(): PoolConnection[] };
  _freeConnections?: { length: number };
}
interface MysqlDriverInternals {
  pool?: Pool;
  options: Record<string, unknown>;
  mysql: { createPool(options: unknown): Pool };
  createConnectionOptions(options: unknown, credentials: unknown): Record<string, unknown>;
}

/** Old pools are closed once their last borrowed connection is back, or after this at the latest. */
const DRAIN_MAX_MS = 60_000;
/** A node that comes back must stay healthy this long before writes move back to it. */
export const FAILBACK_HOLD_MS = 5_000;
/** The node in use must fail this many probes in a row to be left (one lost packet is not a loss). */
export const FAILURES_TO_LEAVE = 2;

/** What a round of probes saw of a node. */
export interface NodeView {
  healthy: boolean;
  /** Since when it has been healthy without a break (null: not healthy now). */
  healthySince: number | null;
}

/**
 * Where the writes go after a round of probes: to the first healthy node when the one in use failed
 * FAILURES_TO_LEAVE probes in a row ('lost'; nowhere when none is healthy), or back to a node earlier
 * in the list once it has stayed healthy for FAILBACK_HOLD_MS while the one in use is fine ('back');
 * null: stay.
 */
export function chooseNode(
  current: number,
  failures: number,
  nodes: NodeView[],
  now: number,
): { to: number; why: 'lost' | 'back' } | null {
  const firstHealthy = nodes.findIndex((n) => n.healthy);
  if (failures >= FAILURES_TO_LEAVE) {
    return firstHealthy < 0 || firstHealthy === current ? null : { to: firstHealthy, why: 'lost' };
  }
  if (!nodes[current]?.healthy) return null;
  const better = nodes.findIndex(
    (n, i) => i < current && n.healthySince !== null && now - n.healthySince >= FAILBACK_HOLD_MS,
  );
  return better < 0 ? null : { to: better, why: 'back' };
}

/**
 * Writes to one Galera node at a time (DB_CLUSTER_URLS): the first healthy node in the list, so every
 * instance writes to the same one and Galera's certification conflicts stay rare (they are retried
 * like deadlocks: Galera reports them as error 1213). Every DB_CLUSTER_CHECK_MS it probes each node
 * on a connection of its own; when the node in use fails twice in a row it moves TypeORM's pool to the
 * first healthy node (the old pool's connections are left to fail their requests with 503 and the
 * pool is closed once they are back). A preferred node that comes back and stays Synced for
 * FAILBACK_HOLD_MS gets the writes again. Every connection of the pool reads causally
 * (`wsrep_sync_wait = 1`): a read waits until the node has applied every write the cluster committed
 * before it, so a caller sees their own writes on whichever node answers.
 */
@Injectable()
export class ClusterMonitor implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('ClusterMonitor');
  private probes: {
    node: ReplicaConfig;
    conn: Connection | null;
    state: NodeState;
    healthySince: number | null;
  }[] = [];
  private current = 0;
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;
  private checking: Promise<void> | null = null;
  private readonly draining = new Set<NodeJS.Timeout>();
  /** Moves of the writes since start (tests). */
  failovers = 0;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get configured(): boolean {
    return this.config.db.cluster.length > 0;
  }

  /** `host:port` of the node taking the writes now, or null without a cluster. */
  get node(): string | null {
    return this.configured ? nodeName(this.config.db.cluster[this.current]) : null;
  }

  private get driver(): MysqlDriverInternals {
    return this.dataSource.driver as unknown as MysqlDriverInternals;
  }

  async onModuleInit(): Promise<void> {
    if (!this.configured) return;
    const nodes = this.config.db.cluster;
    const opts = this.driver.options as { host?: string; port?: number };
    const start = nodes.findIndex((n) => n.host === opts.host && n.port === opts.port);
    this.current = start < 0 ? 0 : start;
    this.probes = nodes.map((node) => ({
      node,
      conn: null,
      state: { healthy: false, problem: 'not probed yet' },
      healthySince: null,
    }));
    if (this.driver.pool) this.prepare(this.driver.pool);
    readGauge(
      'exchange_db_cluster_node',
      'The Galera node taking this instance\'s writes (1) and the others (0), by node "host:port"',
      ['node'],
      () => nodes.map((n, i) => ({ labels: { node: nodeName(n) }, value: i === this.current ? 1 : 0 })),
    );
    readGauge(
      'exchange_db_cluster_node_healthy',
      'Whether a Galera node may take writes (answers, Primary component, Synced), by node',
      ['node'],
      () => this.probes.map((p) => ({ labels: { node: nodeName(p.node) }, value: p.state.healthy ? 1 : 0 })),
    );
    this.logger.log(`writes go to ${this.node} (of ${nodes.map(nodeName).join(', ')})`);
    await this.check();
    const every = this.config.db.clusterCheckMs;
    this.timer = setInterval(() => void this.check(), every);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.checking;
    for (const t of this.draining) clearTimeout(t);
    this.draining.clear();
    for (const p of this.probes) p.conn?.destroy();
    this.probes = [];
  }

  /**
   * Causal reads on every connection of the pool: those it opens from now on (queued before the
   * caller's first query) and those it already has (TypeORM opens one to check the server).
   */
  private prepare(pool: Pool): void {
    const causal = (conn: PoolConnection): void => {
      conn.query('SET SESSION wsrep_sync_wait = 1', (err) => {
        // a plain server without Galera has no such variable: nothing to wait for there
        if (err && (err as { errno?: number }).errno !== 1193)
          this.logger.warn(`causal reads not set on a connection: ${describe(err)}`);
      });
    };
    pool.on('connection', causal);
    for (const conn of pool._allConnections?.toArray() ?? []) causal(conn);
  }

  /** One round of probes, then a move of the writes when the node in use is lost or a better one is back. */
  check(): Promise<void> {
    this.checking ??= this.round().finally(() => {
      this.checking = null;
    });
    return this.checking;
  }

  private async probe(p: (typeof this.probes)[number], timeout: number): Promise<void> {
    try {
      p.conn ??= await open(p.node, timeout);
      p.state = await probeNode(p.conn, timeout);
    } catch (err) {
      p.conn?.destroy();
      p.conn = null;
      p.state = { healthy: false, problem: describe(err) };
    }
    if (!p.state.healthy) p.healthySince = null;
    else p.healthySince ??= Date.now();
  }

  private async round(): Promise<void> {
    if (this.probes.length === 0) return;
    const timeout = probeTimeout(this.config.db);
    await Promise.all(this.probes.map((p) => this.probe(p, timeout)));
    const here = this.probes[this.current];
    this.failures = here.state.healthy ? 0 : this.failures + 1;
    const move = chooseNode(
      this.current,
      this.failures,
      this.probes.map((p) => ({ healthy: p.state.healthy, healthySince: p.healthySince })),
      Date.now(),
    );
    if (move === null) {
      if (this.failures === FAILURES_TO_LEAVE && !this.probes.some((p) => p.state.healthy))
        this.logger.error(`no cluster node can take writes: ${this.problems()}`);
      return;
    }
    const why =
      move.why === 'lost'
        ? `${this.node} lost (${here.state.problem})`
        : `${nodeName(this.probes[move.to].node)} is back`;
    this.move(move.to, why, move.why === 'lost');
  }

  private problems(): string {
    return this.probes.map((p) => `${nodeName(p.node)}: ${p.state.problem ?? 'ok'}`).join('; ');
  }

  /**
   * Points TypeORM's pool at node `to`. The old pool drains and closes; when its node was lost, its
   * connections are cut at once, so requests waiting on a node that may never answer (a network
   * partition sends no reset) fail now with 503 instead of hanging until TCP gives up.
   */
  private move(to: number, why: string, lost: boolean): void {
    if (to === this.current) return;
    const node = this.config.db.cluster[to];
    const driver = this.driver;
    const options = driver.createConnectionOptions(driver.options, {
      ...driver.options,
      host: node.host,
      port: node.port,
      username: node.user,
      password: node.password,
      database: node.name,
    });
    const pool = driver.mysql.createPool(options);
    this.prepare(pool);
    const old = driver.pool;
    driver.pool = pool;
    Object.assign(driver.options, { host: node.host, port: node.port });
    const from = this.node;
    this.current = to;
    this.failures = 0;
    this.failovers += 1;
    METRICS.dbFailovers.inc();
    this.logger.warn(`writes moved from ${from} to ${this.node}: ${why}`);
    if (old && lost) this.cut(old);
    if (old) this.drain(old);
  }

  /** Fails every connection of `pool` now: their pending queries get a lost-connection error (503). */
  private cut(pool: Pool): void {
    for (const conn of pool._allConnections?.toArray() ?? []) {
      const lost = Object.assign(new Error('the database node was lost (failover)'), {
        code: 'PROTOCOL_CONNECTION_LOST',
        fatal: true,
      });
      conn.stream?.destroy(lost);
    }
  }

  /** Closes `pool` once no connection of it is borrowed (or after DRAIN_MAX_MS). */
  private drain(pool: Pool): void {
    const started = Date.now();
    const tick = (): void => {
      const all = pool._allConnections?.length ?? 0;
      const free = pool._freeConnections?.length ?? 0;
      if (all > free && Date.now() - started < DRAIN_MAX_MS) {
        const t = setTimeout(() => {
          this.draining.delete(t);
          tick();
        }, 500);
        t.unref();
        this.draining.add(t);
        return;
      }
      pool.end(() => undefined);
    };
    tick();
  }
}
