import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { CreatedAtColumn } from '../database/columns';

/**
 * One inbox entry. The unique key (user, event, object, occasion) has no nullable part, so the same
 * event can never be stored twice, whichever instance or sweep produces it.
 */
@Entity({ name: 'notifications' })
@Index('uq_notifications_event', ['userId', 'eventType', 'refType', 'refId', 'occasion'], { unique: true })
@Index('ix_notifications_user_read', ['userId', 'isRead', 'id'])
export class NotificationEntity {
  @PrimaryGeneratedColumn({ type: 'int' })
  id!: number;

  @Column({ type: 'int', name: 'user_id' })
  userId!: number;

  @Column({ type: 'varchar', length: 48, name: 'event_type' })
  eventType!: string;

  @Column({ type: 'varchar', length: 120 })
  title!: string;

  @Column({ type: 'varchar', length: 500 })
  message!: string;

  /** What the notification is about ('' when nothing in particular). */
  @Column({ type: 'varchar', length: 32, name: 'ref_type', default: '' })
  refType!: string;

  /** Its id (0 when nothing in particular). */
  @Column({ type: 'int', name: 'ref_id', default: 0 })
  refId!: number;

  /** Which occurrence of the event this is (e.g. a crossing time or a day); '' for one-off events. */
  @Column({ type: 'varchar', length: 64, default: '' })
  occasion!: string;

  @Column({ type: 'boolean', name: 'is_read', default: false })
  isRead!: boolean;

  @CreatedAtColumn()
  createdAt!: Date;
}
