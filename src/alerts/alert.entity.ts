import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { CreatedAtColumn, DateTimeColumn, DoubleColumn } from '../database/columns';
import type { Direction } from '../rates/rate-sample.entity';

export const ALERT_CONDITIONS = ['above', 'below'] as const;
export type AlertCondition = (typeof ALERT_CONDITIONS)[number];

/**
 * A one-shot rate alert: fires once when the market rate of its direction meets the condition, then
 * stays inactive with the time and rate it fired at.
 */
@Entity({ name: 'alerts' })
@Index('ix_alerts_direction_active', ['direction', 'isActive'])
@Index('ix_alerts_user', ['userId', 'id'])
export class AlertEntity {
  @PrimaryGeneratedColumn({ type: 'int' })
  id!: number;

  @Column({ type: 'int', name: 'user_id' })
  userId!: number;

  @Column({ type: 'varchar', length: 16 })
  direction!: Direction;

  /** above: fires when rate >= threshold; below: when rate <= threshold. */
  @Column({ type: 'varchar', length: 8 })
  condition!: AlertCondition;

  /** LBP per USD. */
  @DoubleColumn()
  threshold!: number;

  @Column({ type: 'boolean', name: 'is_active', default: true })
  isActive!: boolean;

  @DateTimeColumn({ name: 'triggered_at', nullable: true })
  triggeredAt!: Date | null;

  /** The market rate at the moment it fired. */
  @DoubleColumn({ name: 'trigger_rate', nullable: true })
  triggerRate!: number | null;

  @CreatedAtColumn()
  createdAt!: Date;
}
