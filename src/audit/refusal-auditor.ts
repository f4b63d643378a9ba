import { type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Principal } from '../auth/principal';
import { Clock } from '../common/clock';
import { AppError } from '../common/errors/app-error';
import { toErrorBody } from '../common/filters/all-exceptions.filter';
import { type RawRequest, requestMetaOf } from '../common/http/request-meta';
import { AuditEvent, type AuditEventType } from './audit-events';
import { targetUserIdOf } from './audit-target';
import { AUDIT_EVENT } from './audit.decorator';
import { AuditService } from './audit.service';
import { scrubSecrets } from './scrub';
import { isAudited, markAudited } from '../common/errors/audited';

interface AuditedRequest extends RawRequest {
  params?: Record<string, string>;
  body?: unknown;
  user?: Principal;
}

/** A refused request's body is kept (scrubbed) up to this size, so the row says what was attempted. */
const MAX_ATTEMPT_BYTES = 1024;

/**
 * Refusals of requests without a valid token are the one kind anyone can send without limit (the
 * throttler runs after authentication): per client IP, at most this many rows a minute are written;
 * the next row written says how many were left out.
 */
export const ANONYMOUS_REFUSAL_ROWS_PER_MINUTE = 30;
const WINDOW_MS = 60_000;
const MAX_TRACKED_IPS = 10_000;

/** Per-IP budget of anonymous refusal rows (in memory, per instance). */
export class AnonymousRefusalBudget {
  private readonly windows = new Map<string, { start: number; used: number; skipped: number }>();

  /** Whether a row may be written now; with the number of rows skipped since the last one written. */
  take(ip: string, now: number): { write: boolean; skipped: number } {
    let w = this.windows.get(ip);
    if (!w || now - w.start >= WINDOW_MS) {
      if (!w && this.windows.size >= MAX_TRACKED_IPS) this.windows.clear();
      w = { start: now, used: 0, skipped: w?.skipped ?? 0 };
      this.windows.set(ip, w);
    }
    if (w.used >= ANONYMOUS_REFUSAL_ROWS_PER_MINUTE) {
      w.skipped += 1;
      return { write: false, skipped: w.skipped };
    }
    w.used += 1;
    const skipped = w.skipped;
    w.skipped = 0;
    return { write: true, skipped };
  }
}

function attemptOf(req: AuditedRequest): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const params = Object.entries(req.params ?? {});
  if (params.length > 0) out.params = Object.fromEntries(params.map(([k, v]) => [k, String(v).slice(0, 64)]));
  if (req.body !== undefined && req.body !== null) {
    const body = scrubSecrets(req.body);
    const bytes = Buffer.byteLength(JSON.stringify(body) ?? '', 'utf8');
    if (bytes <= MAX_ATTEMPT_BYTES) out.body = body;
    else out.body_bytes = bytes;
  }
  return out;
}

/**
 * Writes the audit row of a refused request; the guards and the AuditInterceptor call it, so every
 * refusal row has the same shape whichever layer refused.
 *  - Guard refusals (no, invalid, expired or revoked token; inactive account; wrong role; stale token):
 *    on admin routes an ADMIN_ACCESS_DENIED row, elsewhere a row under the route's @Audit() event.
 *    Anyone can send these without an account, so the row stays small: no body, and only the error
 *    code and message as the reason (never the token).
 *  - Handler refusals (validation, business rules, ...) on @Audit() routes: a row under the route's
 *    event with the error code, details, route params and the (scrubbed, size-capped) body.
 */
@Injectable()
export class RefusalAuditor {
  private readonly anonymous = new AnonymousRefusalBudget();

  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /** The route's @Audit() event, if any. */
  eventOf(context: ExecutionContext): AuditEventType | undefined {
    return this.reflector.get<AuditEventType | undefined>(AUDIT_EVENT, context.getHandler());
  }

  /** Records a guard's refusal (see above) and marks the error as audited. */
  async guardRefusal(context: ExecutionContext, error: AppError, adminRoute: boolean): Promise<void> {
    if (isAudited(error)) return;
    const routeEvent = this.eventOf(context);
    const event = adminRoute ? AuditEvent.ADMIN_ACCESS_DENIED : routeEvent;
    if (!event) return;
    const req = context.switchToHttp().getRequest<AuditedRequest>();
    let skipped = 0;
    if (!req.user) {
      const budget = this.anonymous.take(req.ip ?? 'unknown', this.clock.now().getTime());
      if (!budget.write) {
        markAudited(error);
        return;
      }
      skipped = budget.skipped;
    }
    await this.audit.record({
      event,
      action: actionOf(req),
      success: false,
      statusCode: error.statusCode,
      message: error.message,
      actor: req.user ? { id: req.user.id, userName: req.user.userName } : null,
      targetUserId: targetUserIdOf(req),
      metadata: {
        code: error.code,
        ...(skipped > 0 ? { skipped_rows_from_this_ip: skipped } : {}),
        ...(req.user ? { role: req.user.role } : {}),
        ...(adminRoute && routeEvent ? { attempted: routeEvent } : {}),
      },
      request: requestMetaOf(req),
    });
    markAudited(error);
  }

  /** Records a refusal thrown by the pipes or the handler of an @Audit() route. */
  async handlerRefusal(context: ExecutionContext, event: AuditEventType, err: unknown): Promise<void> {
    if (isAudited(err)) return;
    const req = context.switchToHttp().getRequest<AuditedRequest>();
    const { body } = toErrorBody(err);
    await this.audit.record({
      event,
      action: actionOf(req),
      success: false,
      statusCode: body.statusCode,
      message: body.error,
      actor: req.user ? { id: req.user.id, userName: req.user.userName } : null,
      targetUserId: targetUserIdOf(req),
      metadata: { code: body.code, ...(body.details ? { details: body.details } : {}), ...attemptOf(req) },
      request: requestMetaOf(req),
    });
    markAudited(err);
  }
}

function actionOf(req: AuditedRequest): string {
  return `${req.method ?? ''} ${req.routeOptions?.url ?? ''}`.trim();
}
