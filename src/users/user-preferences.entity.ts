import { Column, Entity, JoinColumn, OneToOne, PrimaryColumn } from 'typeorm';
import { UpdatedAtColumn } from '../database/columns';
import { UserEntity } from './user.entity';

export const BUCKETS = ['hour', 'day'] as const;
export type Bucket = (typeof BUCKETS)[number];

@Entity({ name: 'user_preferences' })
export class UserPreferencesEntity {
  @PrimaryColumn({ type: 'int', name: 'user_id' })
  userId!: number;

  @OneToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_user_preferences_user' })
  user?: UserEntity;

  @Column({ type: 'int', name: 'default_range_hours', default: 72 })
  defaultRangeHours!: number;

  @Column({ type: 'varchar', length: 8, name: 'default_bucket', default: 'hour' })
  defaultBucket!: Bucket;

  @UpdatedAtColumn()
  updatedAt!: Date;
}
