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
import { loadConfigFromProcess } from '../config/app-config';
import { TransactionRunner } from '../database/transaction-runner';
import type { Direction } from '../rates/rate-sample.entity';
import { RatesService } from '../rates/rates.service';
import { TransactionsService } from '../transactions/transactions.service';
import { UserEntity } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { OffersService } from '../market/offers.service';
import { FundingService } from '../funding/funding.service';
import { HouseService } from '../house/house.service';

/**
 * `npm run seed:demo [-- --force]`: 90 days of believable USD/LBP data on the configured database —
 * an hourly feed per direction drifting around 89,500 LBP/USD with noise and a few planted outliers,
 * demo users who record transactions, fund their wallets by deposits demo_admin confirms, convert
 * at the house's quotes and trade offers, spread over the period, and a pending deposit and
 * withdrawal left for the admin console. Refuses to touch a database that already has users
 * unless --force.
 */
const DAYS = 90;
/** The hours (from the start) at which the demo users' USD, then LBP deposits arrive. */
const FUND_USD_HOUR = 6;
const FUND_LBP_HOUR = 30;
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
  deposits: number;
  conversions: number;
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
    const tx = app.get(TransactionRunner);
    const people: Principal[] = [];
    for (const name of USERS) {
      const u =
        (await users.findByUserName(name)) ??
        (await users.create({ userName: name, passwordHash: await hasher.hash(PASSWORD) }));
      people.push({
        id: u.id,
        userName: u.userName,
        role: 'USER',
        status: 'ACTIVE',
        sessionId: 'seed',
        tokenType: 'access',
        jti: 'seed',
        fresh: true,
        established: false,
        token: '',
        user: u,
      });
    }
    const adminUser = await users.findByUserName('demo_admin');
    if (!adminUser) throw new Error('demo_admin was not created');
    const adminActor = { id: adminUser.id, userName: adminUser.userName };
    const funding = app.get(FundingService);
    const house = app.get(HouseService);
    // money enters through the custodial wallet's door: a deposit each user asks for, confirmed by
    // demo_admin (USD on the first day, LBP, valued at the reference, on the next: daily limits)
    const fund = async (currency: 'USD' | 'LBP', amount: number): Promise<void> => {
      for (const who of people) {
        const d = await funding.requestDeposit(
          who,
          { currency, amount, reference: 'demo agent' },
          NO_REQUEST,
        );
        await funding.decide(adminActor, 'DEPOSIT', d.id, 'confirm', { note: 'demo' }, NO_REQUEST);
      }
    };
    let deposits = 0;
    let conversions = 0;

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
      if (h === FUND_USD_HOUR || h === FUND_LBP_HOUR) {
        now = new Date(start.getTime() + h * 3600_000 + 5 * 60_000);
        if (h === FUND_USD_HOUR) await fund('USD', 9_000);
        else await fund('LBP', 800_000_000);
        deposits += people.length;
      }
      const funded = h > FUND_LBP_HOUR;
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
        // as the request would see it: established once funded and aged (or at once on a demo profile)
        who.established = users.establishmentOf(await users.getById(who.id)).established;
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
      // now and then someone converts at the house's quote
      if (funded && rand() < 0.05) {
        const who = people[Math.floor(rand() * people.length)];
        const givesUsd = rand() < 0.5;
        now = new Date(start.getTime() + h * 3600_000 + 48 * 60_000);
        try {
          const q = await house.quote(
            who,
            {
              from_currency: givesUsd ? 'USD' : 'LBP',
              to_currency: givesUsd ? 'LBP' : 'USD',
              from_amount: givesUsd ? Math.round(50 + rand() * 450) : Math.round(5 + rand() * 40) * 1_000_000,
            },
            NO_REQUEST,
          );
          await house.convert(who, { quote_id: q.id }, NO_REQUEST);
          conversions += 1;
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
        }
      }
      // the marketplace: now and then someone posts an offer near the market, others take parts of it
      if (funded && rand() < 0.12) {
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
    // something for the admin console to decide: a pending deposit and a pending withdrawal
    const alice = people[0];
    now = new Date(end.getTime() - 10 * 60_000);
    await funding.requestDeposit(
      alice,
      { currency: 'USD', amount: 250, reference: 'transfer #4471' },
      NO_REQUEST,
    );
    await funding.requestWithdrawal(
      alice,
      { currency: 'USD', amount: 100, destination: 'agent, Hamra street' },
      NO_REQUEST,
    );
    return {
      samples,
      outliers,
      transactions: txCount,
      offers: offerCount,
      trades: tradeCount,
      deposits: deposits + 1,
      conversions,
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
        `${s.deposits} deposits, ${s.conversions} conversions, ${s.offers} offers with ${s.trades} trades, ` +
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
