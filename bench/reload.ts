import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createConnection } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { createApp } from '../src/app.factory';
import { Clock } from '../src/common/clock';
import { freshBenchDb, type Latency, percentiles } from './harness';
import { type AppConfig, loadConfigFromProcess } from '../src/config/app-config';
import { RateSampleEntity } from '../src/rates/rate-sample.entity';
import { ReferenceRateService } from '../src/rates/reference-rate.service';
import { UserEntity } from '../src/users/user.entity';

/**
 * The live reference's reload cost against the size of its window (issue 26): the same traffic
 * (STEP_SAMPLES new samples from "another instance" every STEP_MS) over a 72-hour window holding
 * 100,000 samples, then 1,000,000. An incremental reload (a step) reads what arrived and what left;
 * a full load (at the start, after a change to counted samples, every 10 minutes) reads the whole
 * window. Measured in this process on the service's own ReferenceRateService with a clock the bench
 * moves, so each timed call is exactly one reload.
 */

const USERS = 2000;
const STEP_MS = 2500;
const STEP_SAMPLES = 50;
const STEPS = Number(process.env.BENCH_RELOAD_STEPS ?? 40);
const FULL_LOADS = Number(process.env.BENCH_RELOAD_FULL ?? 7);
const WINDOW_MS = 72 * 3600_000;

export interface ReloadSize {
  samples: number;
  step: Latency;
  full: Latency;
  /** Samples read one by one per step (the traffic of STEP_MS), and left per step. */
  perStep: number;
}
export interface ReloadResult {
  sizes: ReloadSize[];
  /** Step p50 with the largest window / with the smallest. */
  stepRatio: number;
  fullRatio: number;
}

async function reloadConfig(base: AppConfig): Promise<AppConfig> {
  const db = { ...(await freshBenchDb(base.db, '-reload')), statementLog: null };
  return {
    ...base,
    nodeEnv: 'production',
    logLevel: 'silent',
    db,
    scheduler: { ...base.scheduler, enabled: false },
    auth: { ...base.auth, bcryptRounds: 4, jwtSecret: 'bench-secret-0123456789-0123456789-abcdef' },
    rateLimit: { ...base.rateLimit, redisUrl: null },
    adminBootstrap: null,
    warnings: [],
  };
}

/** The reload rows: window sizes `sizes` (ascending), each measured after seeding up to it. */
export async function measureReload(
  base: AppConfig,
  log: (s: string) => void,
  sizes = [100_000, 1_000_000],
): Promise<ReloadResult> {
  const config = await reloadConfig(base);
  const app = await createApp(config);
  const drop = async () => {
    await app.close();
    if (config.db.type === 'mysql') {
      const c = await createConnection({
        host: config.db.host,
        port: config.db.port,
        user: config.db.user,
        password: config.db.password,
      });
      await c.query(`DROP DATABASE IF EXISTS \`${config.db.name}\``);
      await c.end();
    } else {
      for (const suffix of ['', '-wal', '-shm']) rmSync(config.db.sqlitePath + suffix, { force: true });
    }
  };
  try {
    const ds = app.get(DataSource);
    const reference = app.get(ReferenceRateService);
    let now = Date.now();
    app.get(Clock).now = () => new Date(now);
    // the accounts behind the samples (ACTIVE: the load joins them)
    const hash = '$2b$04$abcdefghijklmnopqrstuu2lKNaJ3wW3I5S3w0o7pFzVZ0ZfJ1hGK';
    for (let i = 0; i < USERS; i += 500) {
      const rows = Array.from({ length: Math.min(500, USERS - i) }, (_, k) => ({
        userName: `reload_${i + k}`,
        userNameKey: `reload_${i + k}`,
        passwordHash: hash,
        createdAt: new Date(now - WINDOW_MS),
        updatedAt: new Date(now - WINDOW_MS),
      }));
      await ds.createQueryBuilder().insert().into(UserEntity).values(rows).updateEntity(false).execute();
    }
    const userIds: number[] = (await ds.query<{ id: number }[]>('SELECT id FROM users ORDER BY id')).map(
      (r) => Number(r.id),
    );
    let sampleNo = 0;
    const sample = (at: number): Partial<RateSampleEntity> => {
      const j = sampleNo++;
      return {
        direction: 'usd_to_lbp',
        rate: Math.round(89_500 * (1 + (((j * 7919) % 1000) / 1000 - 0.5) * 0.01)),
        source: 'transaction',
        userId: userIds[j % userIds.length],
        transactionId: null,
        tradeId: null,
        usdVolume: BigInt(10_000 + ((j * 104_729) % 100_000)),
        isOutlier: false,
        counted: true,
        anomalyReason: null,
        anomalyScore: null,
        baselineRate: null,
        deviationPercent: null,
        createdAt: new Date(at),
      };
    };
    const insert = async (rows: Partial<RateSampleEntity>[]) => {
      for (let i = 0; i < rows.length; i += 1500)
        await ds
          .createQueryBuilder()
          .insert()
          .into(RateSampleEntity)
          .values(rows.slice(i, i + 1500))
          .updateEntity(false)
          .execute();
    };
    const out: ReloadSize[] = [];
    let seeded = 0;
    for (const size of sizes) {
      // the window [now - 72 h, now] holds `size` samples, spread evenly (older ones have left)
      const t0 = performance.now();
      const add = size - seeded;
      for (let i = 0; i < add; i += 15_000) {
        const n = Math.min(15_000, add - i);
        await insert(
          Array.from({ length: n }, (_, k) =>
            sample(now - WINDOW_MS + 60_000 + ((i + k) / add) * (WINDOW_MS - 120_000)),
          ),
        );
      }
      seeded = size;
      log(
        `reload: ${size.toLocaleString('en-US')} samples in the window (seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
      );
      const full: number[] = [];
      for (let i = 0; i < FULL_LOADS; i++) {
        reference.invalidate();
        const f0 = performance.now();
        await reference.published();
        full.push(performance.now() - f0);
      }
      const before = reference.loadCounts();
      const step: number[] = [];
      for (let i = 0; i < STEPS; i++) {
        // the traffic of STEP_MS (another instance's: this one is not told), then the clock moves on
        await insert(
          Array.from({ length: STEP_SAMPLES }, (_, k) => sample(now + ((k + 1) / STEP_SAMPLES) * STEP_MS)),
        );
        now += STEP_MS;
        const s0 = performance.now();
        const r = await reference.published();
        step.push(performance.now() - s0);
        if (r.usd_to_lbp.samples === 0) throw new Error('the reference lost its samples');
      }
      const counts = reference.loadCounts();
      if (counts.full !== before.full)
        throw new Error(`the steps fell back to ${counts.full - before.full} full load(s)`);
      const expected = await reference.referenceAt('usd_to_lbp', new Date(now));
      const live = (await reference.published()).usd_to_lbp;
      if (live.samples !== expected.samples || live.rate !== expected.rate)
        throw new Error(
          `the live reference (${live.samples} samples, ${live.rate}) differs from a full read (${expected.samples}, ${expected.rate})`,
        );
      const measured = {
        samples: size,
        step: percentiles(step),
        full: percentiles(full),
        perStep: STEP_SAMPLES,
      };
      out.push(measured);
      log(
        `reload at ${size.toLocaleString('en-US')}: step p50 ${measured.step.p50.toFixed(2)} ms, full p50 ${measured.full.p50.toFixed(1)} ms (the live figures equal a full read: ${live.samples} samples)`,
      );
    }
    const first = out[0];
    const last = out[out.length - 1];
    return {
      sizes: out,
      stepRatio: last.step.p50 / first.step.p50,
      fullRatio: last.full.p50 / first.full.p50,
    };
  } finally {
    await drop();
  }
}

if (require.main === module) {
  measureReload(loadConfigFromProcess(), (s) => console.log(`[bench] ${s}`))
    .then((r) => {
      for (const s of r.sizes)
        console.log(
          `${s.samples.toLocaleString('en-US')} samples: step p50 ${s.step.p50.toFixed(2)} ms p99 ${s.step.p99.toFixed(2)} ms; full p50 ${s.full.p50.toFixed(1)} ms`,
        );
      console.log(
        `step ratio ${r.stepRatio.toFixed(2)} (goal <= 1.5); full load ratio ${r.fullRatio.toFixed(2)}`,
      );
    })
    .catch((err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
      process.exit(1);
    });
}
