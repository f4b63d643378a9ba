import type { OfficialRateEntryDto } from './dto/market.dto';
import type { OfficialRateEntity } from './official-rate.entity';

export function toOfficialEntry(o: OfficialRateEntity, inForceId: number | null): OfficialRateEntryDto {
  return {
    id: o.id,
    usd_to_lbp: o.usdToLbp,
    lbp_to_usd: o.lbpToUsd,
    source: o.source,
    effective_at: o.effectiveAt.toISOString(),
    created_at: o.createdAt.toISOString(),
    in_force: o.id === inForceId,
  };
}
