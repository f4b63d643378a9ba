import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { CreatedAtColumn } from '../database/columns';

/**
 * One audited event. No foreign keys: the trail outlives the rows it talks about. Each filter of
 * GET /admin/logs has an index that leads with it and then gives the newest-first order
 * (test/audit-indexes.e2e-spec.ts checks the plans with EXPLAIN on both dialects).
 */
@Entity({ name: 'audit_logs' })
@Index('ix_audit_logs_created', ['createdAt'])
@Index('ix_audit_logs_actor', ['actorUserId', 'createdAt'])
@Index('ix_audit_logs_target', ['targetUserId', 'createdAt'])
@Index('ix_audit_logs_event', ['eventType', 'createdAt'])
@Index('ix_audit_logs_success', ['success', 'createdAt'])
@Index('ix_audit_logs_actor_name', ['actorUsername', 'createdAt'])
export class AuditLogEntity {
  @PrimaryGeneratedColumn({ type: 'int' })
  id!: number;

  @CreatedAtColumn()
  createdAt!: Date;

  @Column({ type: 'varchar', length: 64, name: 'event_type' })
  eventType!: string;

  @Column({ type: 'varchar', length: 128 })
  action!: string;

  @Column({ type: 'boolean' })
  success!: boolean;

  @Column({ type: 'int', name: 'status_code', nullable: true })
  statusCode!: number | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  message!: string | null;

  @Column({ type: 'varchar', length: 10, name: 'http_method', nullable: true })
  httpMethod!: string | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  path!: string | null;

  @Column({ type: 'varchar', length: 64, name: 'ip_address', nullable: true })
  ipAddress!: string | null;

  @Column({ type: 'varchar', length: 500, name: 'user_agent', nullable: true })
  userAgent!: string | null;

  @Column({ type: 'int', name: 'actor_user_id', nullable: true })
  actorUserId!: number | null;

  @Column({ type: 'varchar', length: 30, name: 'actor_username', nullable: true })
  actorUsername!: string | null;

  @Column({ type: 'int', name: 'target_user_id', nullable: true })
  targetUserId!: number | null;

  @Column({ type: 'text', name: 'metadata_json', nullable: true })
  metadataJson!: string | null;
}
