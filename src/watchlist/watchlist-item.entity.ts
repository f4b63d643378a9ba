import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { CreatedAtColumn, DateTimeColumn, DoubleColumn } from '../database/columns';
import type { Direction } from '../rates/rate-sample.entity';

export const ITEM_TYPES = ['direction', 'threshold'] as const;
export type ItemType = (typeof ITEM_TYPES)[number];

export const CONDITIONS = ['above', 'below'] as const;
export type Condition = (typeof CONDITIONS)[number];

/**
 * One watched direction or threshold of a user. `dedupe_key` ("type:direction:condition:threshold",
 * never null) carries the duplicate rule, so a unique key can enforce it on both dialects even though
 * direction items have no condition or threshold.
 */
@Entity({ name: 'watchlist_items' })
@Index('uq_watchlist_items_user_key', ['userId', 'dedupeKey'], { unique: true })
@Index('ix_watchlist_items_user', ['userId', 'id'])
@Index('ix_watchlist_items_sweep', ['itemType', 'direction', 'armed'])
export class WatchlistItemEntity {
  @PrimaryGeneratedColumn({ type: 'int' })
  id!: number;

  @Column({ type: 'int', name: 'user_id' })
  userId!: number;

  @Column({ type: 'varchar', length: 16, name: 'item_type' })
  itemType!: ItemType;

  @Column({ type: 'varchar', length: 16 })
  direction!: Direction;

  /** Threshold items only. */
  @Column({ type: 'varchar', length: 8, nullable: true })
  condition!: Condition | null;

  /** Threshold items only; LBP per USD. */
  @DoubleColumn({ nullable: true })
  threshold!: number | null;

  /** Threshold items: true while waiting for the next crossing; false after notifying, until re-armed. */
  @Column({ type: 'boolean', default: true })
  armed!: boolean;

  @Column({ type: 'varchar', length: 80, name: 'dedupe_key' })
  dedupeKey!: string;

  @DateTimeColumn({ name: 'last_notified_at', nullable: true })
  lastNotifiedAt!: Date | null;

  /** Direction items: the UTC day (YYYY-MM-DD) of the last big-move notification, '' before any. */
  @Column({ type: 'varchar', length: 10, name: 'last_notified_day', default: '' })
  lastNotifiedDay!: string;

  @CreatedAtColumn()
  createdAt!: Date;
}

/** The duplicate rule: same user, type, direction, condition and threshold. */
export function dedupeKeyOf(
  itemType: ItemType,
  direction: Direction,
  condition: Condition | null,
  threshold: number | null,
): string {
  return `${itemType}:${direction}:${condition ?? ''}:${threshold === null ? '' : String(threshold)}`;
}
