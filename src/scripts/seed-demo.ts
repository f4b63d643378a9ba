import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AppModule } from '../app.module';
import { AdminBootstrapService } from '../auth/admin-bootstrap.service';
import { PasswordHasher } from '../auth/password-hasher';
import type { Principal } from '../auth/principal';
import { Clock } from '../common/clock';
import { AppError } from '../common/errors/app-error';
import { NO_REQUEST } from '../common/http/request-meta';
import { toMinor } from '../common/money';
import { loadConfigFromProcess } from '../config/app-config';
import { TransactionRunner } from '../database/transaction-runner';
import type { Direction } from '../rates/rate-sample.entity';
import { RatesService } from '../rates/rates.service';
import { TransactionsService } from '../transactions/transactions.service';
import { UserEntity } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { OffersService } from '../market/offers.service';
import { WalletService } from '../wallet/wallet.service';

/**
 * `npm run seed:demo [-- --force]`: 90 days of believable USD/LBP data on the configured database —
 * an hourly feed per direction drifting around 89,500 LBP/USD with noise and a few planted outliers,
 * demo users with balances, and their transactions spread over the period. Refuses to touch a
 * database that already has users unless --force.
 */
const DAYS = 90;
const PASSWORD = 'demo-password-1';
const USERS = ['demo_alice', 'demo_bassem', 'demo_carla', 'demo_dani', 'demo_elie'];

/** A small deterministic PRNG so every seed tells the same story. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SeedOptions {
  days?: number;
  force?: boolean;
  /** The last hour of data (default: the current hour). */
  end?: Date;
}

export interface SeedSummary {
  samples: number;
  outliers: number;
  transactions: number;
  offers: number;
  trades: number;
  users: string[];
}

export class SeedRefusedError extends Error {}

/** Seeds the demo data through the app's own services (the clock is moved through the period). */
export async function seedDemo(
  app: INestApplicationContext,
  options: SeedOptions = {},
): Promise<SeedSummary> {
  const days = options.days ?? DAYS;
  const ds = app.get(DataSource);
  const existing = await ds.getRepository(UserEntity).count();
  if (existing > 0 && !options.force) {
    throw new SeedRefusedError(
      `The database already has ${existing} user(s); not seeding. Re-run with --force to add demo data anyway.`,
    );
  }
  const clock = app.get(Clock);
  const realNow = clock.now.bind(clock);
  const rand = rng(20261125);
  const end = options.end ?? new Date(Math.floor(realNow().getTime() / 3600_000) * 3600_000);
  const start = new Date(end.getTime() - days * 24 * 3600_000);
  let now = start;
  clock.now = () => now; // the seed travels through time; every service reads this clock
  try {
    const admins = app.get(AdminBootstrapService);
    await admins.createOrPromote('demo_admin', PASSWORD, 'seed');
    const users = app.get(UsersService);
    const hasher = app.get(PasswordHasher);
    const wallets = app.get(WalletService);
    const tx = app.get(TransactionRunner);
    const people: Principal[] = [];
    for (const name of USERS) {
      const u =
        (await users.findByUserName(name)) ??
        (await users.create({ userName: name, passwordHash: await hasher.hash(PASSWORD) }));
      await tx.run((m) =>
        wallets.post(
          {
            kind: 'DEMO_FUNDING',
            refType: 'user',
            refId: u.id,
            legs: [
              { account: 'user', userId: u.id, currency: 'USD', amount: toMinor(25_000) },
              { account: 'funding', currency: 'USD', amount: -toMinor(25_000) },
              { account: 'user', userId: u.id, currency: 'LBP', amount: toMinor(2_000_000_000) },
              { account: 'funding', currency: 'LBP', amount: -toMinor(2_000_000_000) },
            ],
          },
          m,
        ),
      );
      people.push({
        id: u.id,
        userName: u.userName,
        role: 'USER',
        status: 'ACTIVE',
        sessionId: 'seed',
        tokenType: 'access',
        jti: 'seed',
        fresh: true,
        token: '',
      });
    }

    const rates = app.get(RatesService);
    const transactions = app.get(TransactionsService);
    const hours = days * 24;
    const outlierHours = new Set([150, 700, 1111, 1500, 1800, 2050].map((h) => h % hours));
    let mid = 89_000;
    let samples = 0;
    let outliers = 0;
    let txCount = 0;
    const offers = app.get(OffersService);
    const openOffers: { id: number; maker: number; minFill: number }[] = [];
    let offerCount = 0;
    let tradeCount = 0;
    for (let h = 0; h < hours; h++) {
      // drift: a slow upward trend with a random walk and a daily rhythm
      mid = mid * (1 + (rand() - 0.48) * 0.004) + 2;
      const daily = 1 + 0.002 * Math.sin((2 * Math.PI * (h % 24)) / 24);
      for (const direction of ['usd_to_lbp', 'lbp_to_usd'] as Direction[]) {
        const spread = direction === 'usd_to_lbp' ? 0.997 : 1.003;
        const minute = Math.floor(rand() * 60);
        now = new Date(start.getTime() + h * 3600_000 + minute * 60_000);
        const planted = outlierHours.has(h) && direction === 'usd_to_lbp';
        const rate = Math.round(mid * daily * spread * (1 + (rand() - 0.5) * 0.004) * (planted ? 3 : 1));
        const sample = await tx.run((m) =>
          rates.record(
            { direction, rate, source: 'feed', usdVolume: BigInt(Math.round(50 + rand() * 1950)) * 100n },
            m,
          ),
        );
        samples += 1;
        if (sample.isOutlier) outliers += 1;
      }
      if (rand() < 0.25) {
        const who = people[Math.floor(rand() * people.length)];
        const usdToLbp = rand() < 0.55;
        const usd = Math.round(20 + rand() * 480);
        const rate = Math.round(mid * (usdToLbp ? 0.997 : 1.003) * (1 + (rand() - 0.5) * 0.006));
        now = new Date(start.getTime() + h * 3600_000 + 45 * 60_000);
        try {
          await transactions.create(
            who,
            { usd_amount: usd, lbp_amount: usd * rate, usd_to_lbp: usdToLbp },
            NO_REQUEST,
          );
          txCount += 1;
        } catch (err) {
          if (!(err instanceof AppError)) throw err; // a refused demo transaction is part of the story
        }
      }
      // the marketplace: now and then someone posts an offer near the market, others take parts of it
      if (rand() < 0.12) {
        const maker = people[Math.floor(rand() * people.length)];
        const givesUsd = rand() < 0.5;
        const usd = Math.round(100 + rand() * 900);
        const lbp = usd * Math.round(mid * (givesUsd ? 1.002 : 0.998));
        const minFill = givesUsd ? 50 : 50 * Math.round(mid);
        now = new Date(start.getTime() + h * 3600_000 + 50 * 60_000);
        try {
          const created = await offers.create(
            maker,
            {
              give_currency: givesUsd ? 'USD' : 'LBP',
              give_amount: givesUsd ? usd : lbp,
              want_currency: givesUsd ? 'LBP' : 'USD',
              want_amount: givesUsd ? lbp : usd,
              min_fill_amount: minFill,
              expires_in_hours: 72,
            },
            NO_REQUEST,
          );
          openOffers.push({ id: created.id, maker: maker.id, minFill });
          offerCount += 1;
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
        }
      }
      if (openOffers.length > 0 && rand() < 0.1) {
        const pick = openOffers[Math.floor(rand() * openOffers.length)];
        const takers = people.filter((p) => p.id !== pick.maker);
        const taker = takers[Math.floor(rand() * takers.length)];
        now = new Date(start.getTime() + h * 3600_000 + 55 * 60_000);
        try {
          // the whole remainder, or one to three times the minimum fill
          const amount = rand() < 0.4 ? undefined : pick.minFill * (1 + Math.floor(rand() * 3));
          const taken = await offers.accept(taker, pick.id, { amount }, NO_REQUEST);
          tradeCount += 1;
          if (taken.offer.status !== 'OPEN') openOffers.splice(openOffers.indexOf(pick), 1);
        } catch (err) {
          if (!(err instanceof AppError)) throw err; // expired or taken meanwhile: part of the story
          openOffers.splice(openOffers.indexOf(pick), 1);
        }
      }
    }
    now = end;
    await offers.expireDue();
    return {
      samples,
      outliers,
      transactions: txCount,
      offers: offerCount,
      trades: tradeCount,
      users: ['demo_admin', ...USERS],
    };
  } finally {
    clock.now = realNow;
  }
}

async function main(): Promise<void> {
  const config = loadConfigFromProcess();
  const app = await NestFactory.createApplicationContext(
    AppModule.forRoot({
      ...config,
      logLevel: 'error',
      adminBootstrap: null,
      rates: { ...config.rates, baselineCacheSeconds: 0 },
    }),
    { logger: ['error', 'warn'] },
  );
  try {
    const s = await seedDemo(app, { force: process.argv.includes('--force') });
    console.log(
      `Seeded ${DAYS} days: ${s.samples} feed samples (${s.outliers} flagged as outliers), ${s.transactions} transactions, ` +
        `${s.offers} offers with ${s.trades} trades, ` +
        `users ${s.users.join(', ')} with password "${PASSWORD}".`,
    );
  } catch (err) {
    if (!(err instanceof SeedRefusedError)) throw err;
    console.error(err.message);
    process.exitCode = 1;
  } finally {
    await app.close();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
