import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { OfficialRateService } from './official-rate.service';
import { ReferenceHistoryService } from './reference-history.service';
import { midOf, ReferenceRateService } from './reference-rate.service';

/** Why the house quotes nothing now (the `message` of NO_QUOTE's `reference` detail). */
export type HaltReason = 'too_few_contributors' | 'stale' | 'volatile';

/** The house's guard as it stands now (GET /admin/house `guard`). */
export interface Guard {
  windowMinutes: number;
  /** The published mid now (between the two directions' references), or null. */
  mid: number | null;
  /** The newest counted sample behind it. */
  updatedAt: Date | null;
  /** Lowest and highest published mid of the window, the current one included. */
  lowMid: number | null;
  highMid: number | null;
  /** (high - low) / low, in percent. */
  movePercent: number | null;
  halted: boolean;
  reason: HaltReason | null;
}

/**
 * The house's guard over the published mid (the house quotes from it; every limit values LBP with
 * it), from the shared per-minute history, so every instance reads the same window:
 * - the ask is taken from the window's highest mid and the bid from its lowest, so a round trip
 *   inside QUOTE_GUARD_MINUTES costs at least twice the spread plus the window's range, whichever
 *   way the reference moved between the two legs;
 * - halted when the window moved more than HOUSE_HALT_MOVE_PERCENT, when the newest counted sample
 *   is older than QUOTE_REFERENCE_MAX_AGE_MINUTES, or when nothing is published;
 * - limits value LBP at the window's lowest mid (LBP per USD), where LBP is worth the most USD.
 */
@Injectable()
export class GuardService {
  constructor(
    private readonly reference: ReferenceRateService,
    private readonly history: ReferenceHistoryService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly official: OfficialRateService,
  ) {}

  async guard(): Promise<Guard> {
    const now = this.clock.now();
    const h = this.config.house;
    const rates = await this.reference.published();
    // the value quoted from is in the shared history before anyone is quoted at it
    this.history.observe(rates, now);
    const mid = midOf(rates);
    const w = await this.history.window('mid', now, h.guardMinutes, mid?.rate ?? null);
    const movePercent =
      w.low !== null && w.high !== null && w.low > 0 ? ((w.high - w.low) / w.low) * 100 : null;
    let reason: HaltReason | null = null;
    if (!mid) reason = 'too_few_contributors';
    else if (now.getTime() - mid.updatedAt.getTime() > h.referenceMaxAgeMinutes * 60_000) reason = 'stale';
    else if (movePercent !== null && movePercent > h.haltMovePercent) reason = 'volatile';
    return {
      windowMinutes: h.guardMinutes,
      mid: mid?.rate ?? null,
      updatedAt: mid?.updatedAt ?? null,
      lowMid: w.low,
      highMid: w.high,
      movePercent,
      halted: reason !== null,
      reason,
    };
  }

  /**
   * The rate (LBP per USD) at which limits value LBP: the guard window's lowest mid (where LBP is worth
   * the most USD); while no reference is published, the official rate (the lower of its two sides),
   * so a new platform can take LBP deposits; null without either.
   */
  async valuationRate(): Promise<number | null> {
    const g = await this.guard();
    if (g.mid !== null) return g.lowMid;
    const o = await this.official.current();
    return o ? Math.min(o.usdToLbp, o.lbpToUsd) : null;
  }

  /**
   * The rate at which a confirmed LBP deposit counts toward establishment: where LBP is worth the
   * least USD (the window's highest mid; without a reference the higher official side), or null.
   */
  async establishmentRate(): Promise<number | null> {
    const g = await this.guard();
    if (g.mid !== null) return g.highMid;
    const o = await this.official.current();
    return o ? Math.max(o.usdToLbp, o.lbpToUsd) : null;
  }
}
