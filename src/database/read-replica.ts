import { AsyncLocalStorage } from 'node:async_hooks';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createConnection, type Connection } from 'mysql2/promise';
import { DataSource, type EntityManager, type QueryRunner } from 'typeorm';
import { APP_CONFIG, type AppConfig, type ReplicaConfig } from '../config/app-config';
import { METRICS, readGauge } from '../metrics/metrics';

interface ReplicaStatus {
  Slave_IO_Running?: string;
  Slave_SQL_Running?: string;
  Seconds_Behind_Master?: number | string | null;
}

/**
 * Read-only work on the MySQL/MariaDB replicas of DB_REPLICA_URLS (TypeORM `replication`, default
 * mode the primary, so only what is routed here reads a replica):
 * - `run(userId, fn)` runs `fn` with `manager()` on a replica connection, unless one of these sends
 *   it to the primary: no replica configured; a replica lags more than REPLICA_MAX_LAG_SECONDS, or
 *   its replication stopped, or its status cannot be read (checked every REPLICA_CHECK_MS on each);
 *   or the user wrote within REPLICA_STICKY_MS (this instance saw the write: their own reads right
 *   after it see it);
 * - `iterate(userId, make)` the same for a lazy read (an export's chunks);
 * - `snapshot(fn)` the same for a read transaction that needs one consistent snapshot.
 * Writes, and every read inside a write transaction, use the primary's manager as before.
 */
@Injectable()
export class ReadReplica implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('ReadReplica');
  private readonly als = new AsyncLocalStorage<EntityManager>();
  private readonly writers = new Map<number, number>();
  private monitors: { config: ReplicaConfig; conn: Connection | null }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private healthy = false;
  private lastProblem: string | null = null;
  /** run() calls per target since start (tests); snapshot() loads are counted apart. */
  readonly served = { replica: 0, primary: 0 };
  readonly snapshots = { replica: 0, primary: 0 };

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Whether replicas are configured. */
  get configured(): boolean {
    return this.config.db.replicas.length > 0;
  }

  /** Whether reads may go to the replicas now (configured, replicating, lag within bounds). */
  get usable(): boolean {
    return this.configured && this.healthy;
  }

  async onModuleInit(): Promise<void> {
    if (!this.configured) return;
    readGauge(
      'exchange_db_replicas_usable',
      '1 while read-only work may go to the replicas (all replicating, lag within REPLICA_MAX_LAG_SECONDS)',
      [],
      () => (this.usable ? 1 : 0),
    );
    this.monitors = this.config.db.replicas.map((config) => ({ config, conn: null }));
    await this.check();
    const every = this.config.db.replicaCheckMs;
    if (every > 0) {
      this.timer = setInterval(() => void this.check(), every);
      this.timer.unref();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const m of this.monitors) await m.conn?.end().catch(() => undefined);
    this.monitors = [];
  }

  /** Reads the replication status of every replica; all must be fine for reads to go there. */
  async check(): Promise<boolean> {
    const problems: string[] = [];
    for (const m of this.monitors) {
      try {
        m.conn ??= await createConnection({
          host: m.config.host,
          port: m.config.port,
          user: m.config.user,
          password: m.config.password,
          connectTimeout: 1000,
        });
        const [rows] = await m.conn.query('SHOW SLAVE STATUS');
        const s = (rows as ReplicaStatus[])[0];
        const lag = s?.Seconds_Behind_Master == null ? null : Number(s.Seconds_Behind_Master);
        if (!s) problems.push(`${m.config.host}:${m.config.port} is not a replica`);
        else if (s.Slave_IO_Running !== 'Yes' || s.Slave_SQL_Running !== 'Yes')
          problems.push(`${m.config.host}:${m.config.port} is not replicating`);
        else if (lag === null || lag > this.config.db.replicaMaxLagSeconds)
          problems.push(`${m.config.host}:${m.config.port} lags ${lag ?? 'an unknown time'}`);
      } catch (err) {
        m.conn?.destroy();
        m.conn = null;
        problems.push(
          `${m.config.host}:${m.config.port}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
    const healthy = problems.length === 0;
    const problem = healthy ? null : problems.join('; ');
    if (problem !== this.lastProblem) {
      if (problem) this.logger.warn(`reads stay on the primary: ${problem}`);
      else this.logger.log('replicas caught up: read-only work goes to them');
      this.lastProblem = problem;
    }
    this.healthy = healthy;
    return healthy;
  }

  /** A user wrote (or tried to): their reads stay on the primary for REPLICA_STICKY_MS. */
  noteWrite(userId: number): void {
    if (!this.configured) return;
    const now = Date.now();
    if (this.writers.size > 100_000) {
      for (const [id, at] of this.writers)
        if (now - at > this.config.db.replicaStickyMs) this.writers.delete(id);
    }
    this.writers.set(userId, now);
  }

  private wroteRecently(userId: number | null): boolean {
    if (userId === null) return false;
    const at = this.writers.get(userId);
    return at !== undefined && Date.now() - at < this.config.db.replicaStickyMs;
  }

  /** The manager of the read `run()` routed here, else the primary's. */
  manager(): EntityManager {
    return this.als.getStore() ?? this.dataSource.manager;
  }

  private count(target: 'replica' | 'primary', tally = this.served): void {
    tally[target] += 1;
    if (this.configured) METRICS.dbReads.inc({ target });
  }

  /** Whether the reads of `run()` for this user would go to a replica now. */
  routesToReplica(userId: number | null): boolean {
    return this.usable && !this.wroteRecently(userId);
  }

  /** `fn` with manager() on a replica, or on the primary (see the class comment). */
  async run<T>(userId: number | null, fn: () => Promise<T>): Promise<T> {
    if (!this.routesToReplica(userId)) {
      this.count('primary');
      return fn();
    }
    const qr = this.dataSource.createQueryRunner('slave');
    this.count('replica');
    try {
      return await this.als.run(qr.manager, fn);
    } finally {
      await qr.release();
    }
  }

  /**
   * The steps of a lazy read (an export's keyset chunks) routed as `run()` would route it, decided
   * once at the start; on a replica each step takes a connection only while it queries, so a slow
   * download holds none between chunks.
   */
  async *iterate<T>(userId: number | null, make: () => AsyncGenerator<T>): AsyncGenerator<T> {
    if (!this.routesToReplica(userId)) {
      this.count('primary');
      yield* make();
      return;
    }
    this.count('replica');
    const gen = make();
    try {
      for (;;) {
        const qr = this.dataSource.createQueryRunner('slave');
        let step: IteratorResult<T>;
        try {
          // the generator resumes inside als.run, so its queries see this step's manager
          step = await this.als.run(qr.manager, () => gen.next());
        } finally {
          await qr.release();
        }
        if (step.done) return;
        yield step.value;
      }
    } finally {
      await gen.return(undefined);
    }
  }

  /** `fn` in one read transaction (one snapshot) on a replica, or null when reads stay on the primary. */
  async snapshot<T>(fn: (m: EntityManager) => Promise<T>): Promise<T | null> {
    if (!this.routesToReplica(null)) {
      if (this.configured) this.count('primary', this.snapshots);
      return null;
    }
    const qr: QueryRunner = this.dataSource.createQueryRunner('slave');
    this.count('replica', this.snapshots);
    try {
      await qr.startTransaction();
      try {
        const out = await fn(qr.manager);
        await qr.commitTransaction();
        return out;
      } catch (err) {
        await qr.rollbackTransaction().catch(() => undefined);
        throw err;
      }
    } finally {
      await qr.release();
    }
  }
}
