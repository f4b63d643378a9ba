import type { AppConfig } from '../config/app-config';
import type { UserEntity } from './user.entity';

/** When an account's samples count toward the reference rate (RATE_CONTRIBUTOR_* settings). */
export interface EstablishmentPolicy {
  /** Confirmed deposits needed, USD minor units. */
  minDepositUsd: bigint;
  /** Account age needed, hours. */
  minAgeHours: number;
}

export function establishmentPolicy(config: AppConfig): EstablishmentPolicy {
  return {
    minDepositUsd: config.rates.contributorMinDepositUsd,
    minAgeHours: config.rates.contributorMinAgeHours,
  };
}

export interface Establishment {
  established: boolean;
  /** Since when (null when not established). */
  establishedAt: Date | null;
}

const NOT: Establishment = { established: false, establishedAt: null };

export type EstablishmentFacts = Pick<
  UserEntity,
  'status' | 'trusted' | 'trustedAt' | 'fundedAt' | 'createdAt'
>;

/**
 * Whether an account is established now, and since when:
 * - never while it is not ACTIVE, or distrusted by an admin (`trusted = false`);
 * - trusted by an admin: since then (or earlier, if its deposits and age had made it so before);
 * - otherwise once its confirmed deposits reached the minimum (`fundedAt`) and it is old enough: since
 *   the later of the two moments;
 * - both settings at 0 (the open crowd of demos and tests): every active account not distrusted, since
 *   its creation.
 * The facts are stored, the verdict is computed, so a change of the settings applies at once.
 */
export function establishment(u: EstablishmentFacts, policy: EstablishmentPolicy, now: Date): Establishment {
  if (u.status !== 'ACTIVE' || u.trusted === false) return NOT;
  if (policy.minDepositUsd === 0n && policy.minAgeHours === 0)
    return { established: true, establishedAt: u.createdAt };
  const agedAt = new Date(u.createdAt.getTime() + policy.minAgeHours * 3_600_000);
  const fundedAt = policy.minDepositUsd === 0n ? u.createdAt : u.fundedAt;
  let byDeposits: Date | null = null;
  if (fundedAt !== null) {
    const at = fundedAt.getTime() > agedAt.getTime() ? fundedAt : agedAt;
    if (at.getTime() <= now.getTime()) byDeposits = at;
  }
  const byTrust = u.trusted === true ? (u.trustedAt ?? u.createdAt) : null;
  const candidates = [byDeposits, byTrust].filter((d): d is Date => d !== null);
  if (candidates.length === 0) return NOT;
  return {
    established: true,
    establishedAt: new Date(Math.min(...candidates.map((d) => d.getTime()))),
  };
}
