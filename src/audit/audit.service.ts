import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { TransactionRunner } from '../database/transaction-runner';
import { NO_REQUEST, type RequestMeta } from '../common/http/request-meta';
import type { Page } from '../common/pagination';
import type { AuditLogEntity } from './audit-log.entity';
import type { AuditEventType } from './audit-events';
import { type AuditLogFilter, AuditRepository } from './audit.repository';
import { scrubSecrets } from './scrub';

export interface AuditActor {
  id: number | null;
  userName: string | null;
}

export interface AuditEntry {
  event: AuditEventType;
  action: string;
  success: boolean;
  statusCode?: number | null;
  message?: string | null;
  actor?: AuditActor | null;
  targetUserId?: number | null;
  metadata?: Record<string, unknown> | null;
  request?: RequestMeta;
}

const clip = (s: string | null | undefined, n: number): string | null => (s == null ? null : s.slice(0, n));

@Injectable()
export class AuditService {
  private readonly logger = new Logger(AuditService.name);

  constructor(
    private readonly repo: AuditRepository,
    private readonly clock: Clock,
    private readonly tx: TransactionRunner,
  ) {}

  /**
   * Writes one audit row. Pass the caller's EntityManager when the row must commit with the action;
   * without one the row is written on its own and a failure to write it is logged, never thrown
   * (a refused request must still get its own error, not an audit error).
   */
  async record(entry: AuditEntry, manager?: EntityManager): Promise<void> {
    const req = entry.request ?? NO_REQUEST;
    const metadata = entry.metadata ? { ...entry.metadata } : {};
    if (req.requestId) metadata.request_id = req.requestId;
    const row: Omit<AuditLogEntity, 'id'> = {
      createdAt: this.clock.now(),
      eventType: entry.event,
      action: entry.action.slice(0, 128),
      success: entry.success,
      statusCode: entry.statusCode ?? null,
      message: clip(entry.message, 500),
      httpMethod: clip(req.method, 10),
      path: clip(req.path, 500),
      ipAddress: clip(req.ip, 64),
      userAgent: clip(req.userAgent, 500),
      actorUserId: entry.actor?.id ?? null,
      actorUsername: clip(entry.actor?.userName, 30),
      targetUserId: entry.targetUserId ?? null,
      metadataJson:
        Object.keys(metadata).length > 0 ? JSON.stringify(scrubSecrets(metadata)).slice(0, 60_000) : null,
    };
    if (manager) {
      await this.repo.insert(row, manager);
      return;
    }
    try {
      await this.tx.run((m) => this.repo.insert(row, m));
    } catch (err) {
      this.logger.error(
        `audit row ${entry.event} not written: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  search(filter: AuditLogFilter, page: Page): Promise<{ rows: AuditLogEntity[]; total: number }> {
    return this.repo.search(filter, page);
  }
}
