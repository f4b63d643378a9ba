import { Readable } from 'node:stream';
import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { TransactionRunner } from '../database/transaction-runner';
import { NO_REQUEST, type RequestMeta } from '../common/http/request-meta';
import type { Page } from '../common/pagination';
import type { AuditLogEntity } from './audit-log.entity';
import { toAuditLogDto } from './audit-log.mapper';
import { AuditEvent, type AuditEventType } from './audit-events';
import { AUDIT_CSV_HEADER, auditCsvLine } from './audit-csv';
import { type AuditLogFilter, AuditRepository } from './audit.repository';
import { scrubSecrets } from './scrub';
import { fileStamp } from '../common/dates';

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

/** Bytes of metadata JSON kept per row: well inside a MySQL TEXT (64 KiB) whatever the characters. */
export const MAX_METADATA_BYTES = 32_000;

/**
 * The row's metadata_json: scrubbed, and always valid JSON. Too large a payload is replaced by a small
 * note (its top-level keys and size) instead of being cut in the middle of a value.
 */
export function metadataJsonOf(metadata: Record<string, unknown>): string | null {
  if (Object.keys(metadata).length === 0) return null;
  // bigint (minor units) as text: JSON.stringify would throw, and the row must not fail its action
  const json = JSON.stringify(scrubSecrets(metadata), (_k, v: unknown) =>
    typeof v === 'bigint' ? v.toString() : v,
  );
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes <= MAX_METADATA_BYTES) return json;
  return JSON.stringify({
    truncated: true,
    bytes,
    keys: Object.keys(metadata).slice(0, 50),
    ...(typeof metadata.code === 'string' ? { code: metadata.code } : {}),
    ...(typeof metadata.request_id === 'string' ? { request_id: metadata.request_id } : {}),
  });
}

const scrubText = (s: string | null | undefined, n: number): string | null =>
  s == null ? null : (scrubSecrets(s) as string).slice(0, n);

const EXPORT_CHUNK = 1000;

/** The export's filter as the query named it, for the ADMIN_LOG_EXPORT row. */
function describeFilter(f: AuditLogFilter): Record<string, unknown> {
  const out: Record<string, unknown> = {
    from: f.from?.toISOString(),
    to: f.to?.toISOString(),
    event_type: f.eventType,
    path: f.path,
    success: f.success,
    actor_user_id: f.actorUserId,
    target_user_id: f.targetUserId,
    actor_username: f.actorUsername,
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

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
      message: scrubText(entry.message, 500),
      httpMethod: clip(req.method, 10),
      path: clip(req.path, 500),
      ipAddress: clip(req.ip, 64),
      userAgent: scrubText(req.userAgent, 500),
      actorUserId: entry.actor?.id ?? null,
      actorUsername: clip(entry.actor?.userName, 30),
      targetUserId: entry.targetUserId ?? null,
      metadataJson: metadataJsonOf(metadata),
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

  /**
   * GET /admin/logs/export: the rows matching `filter`, newest first, as CSV produced chunk by chunk
   * (keyset pages), never all in memory. The export itself is audited (ADMIN_LOG_EXPORT) first.
   */
  async exportCsv(
    filter: AuditLogFilter,
    actor: AuditActor,
    meta: RequestMeta,
  ): Promise<{ filename: string; stream: Readable }> {
    const now = this.clock.now();
    const stamp = fileStamp(now);
    const filename = `audit_logs_${stamp}.csv`;
    await this.record({
      event: AuditEvent.ADMIN_LOG_EXPORT,
      action: 'export audit logs',
      success: true,
      statusCode: 200,
      message: filename,
      actor,
      metadata: { filename, filter: describeFilter(filter) },
      request: meta,
    });
    const repo = this.repo;
    async function* lines(): AsyncGenerator<string> {
      yield AUDIT_CSV_HEADER;
      for await (const chunk of repo.chunks(filter, EXPORT_CHUNK)) {
        yield chunk.map((r) => auditCsvLine(toAuditLogDto(r))).join('');
      }
    }
    return { filename, stream: Readable.from(lines()) };
  }
}
