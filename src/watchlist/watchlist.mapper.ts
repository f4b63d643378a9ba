import type { WatchlistItemDto, WatchlistItemViewDto } from './dto/watchlist.dto';
import type { WatchlistItemEntity } from './watchlist-item.entity';

export interface MarketFigures {
  currentRate: number | null;
  change24hPercent: number | null;
}

export function toWatchlistItemDto(w: WatchlistItemEntity): WatchlistItemDto {
  return {
    id: w.id,
    item_type: w.itemType,
    direction: w.direction,
    condition: w.condition ?? null,
    threshold: w.threshold ?? null,
    created_at: w.createdAt.toISOString(),
  };
}

export function toWatchlistItemViewDto(w: WatchlistItemEntity, f: MarketFigures): WatchlistItemViewDto {
  return {
    ...toWatchlistItemDto(w),
    current_rate: f.currentRate,
    change_24h_percent: f.change24hPercent,
    last_notified_at: w.lastNotifiedAt ? w.lastNotifiedAt.toISOString() : null,
  };
}
