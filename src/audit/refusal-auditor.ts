import { type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Principal } from '../auth/principal';
import { Clock } from '../common/clock';
import { routePlan } from '../common/route-plan';
import { AppError } from '../common/errors/app-error';
import { toErrorBody } from '../common/filters/all-exceptions.filter';
import { type RawRequest, requestMetaOf } from '../common/http/request-meta';
import { AuditEvent, type AuditEventType } from './audit-events';
import { targetUserIdOf } from './audit-target';
import { AuditService } from './audit.service';
import { scrubSecrets } from './scrub';
import { isAudited, markAudited } from '../common/errors/audited';

interface AuditedRequest extends RawRequest {
  params?: Record<string, string>;
  body?: unknown;
  user?: Principal;
}

/**
 * A refused request's body is kept (scrubbed) up to this size, so the row says what was attempted;
 * a larger one is recorded by its size only.
 */
export const MAX_ATTEMPT_BYTES = 256;

/**
 * Refusals are the one kind of audit row a client can cause without limit, so they have a budget:
 * per client IP for requests without a valid token (anyone can send those), per account for the
 * others (a validation failure on a route without a rate limit costs nothing to repeat). At most
 * this many rows a minute are written; the next row written says how many were left out.
 */
export const ANONYMOUS_REFUSAL_ROWS_PER_MINUTE = 30;
export const ACCOUNT_REFUSAL_ROWS_PER_MINUTE = 60;
const WINDOW_MS = 60_000;
const MAX_TRACKED_KEYS = 10_000;

/** A per-key budget of refusal rows a minute (in memory, per instance). */
export class RefusalBudget {
  private readonly windows = new Map<string, { start: number; used: number; skipped: number }>();

  constructor(private readonly perMinute: number) {}

  /** Whether a row may be written now; with the number of rows skipped since the last one written. */
  take(key: string, now: number): { write: boolean; skipped: number } {
    let w = this.windows.get(key);
    if (!w || now - w.start >= WINDOW_MS) {
      if (!w && this.windows.size >= MAX_TRACKED_KEYS) this.windows.clear();
      w = { start: now, used: 0, skipped: w?.skipped ?? 0 };
      this.windows.set(key, w);
    }
    if (w.used >= this.perMinute) {
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
 * refusal row has the same shape whichever layer refused, and every refusal row counts against the
 * caller's budget (see RefusalBudget).
 *  - Guard refusals (no, invalid, expired or revoked token; inactive account; wrong role; stale token):
 *    on admin routes an ADMIN_ACCESS_DENIED row, elsewhere a row under the route's @Audit() event.
 *    Anyone can send these without an account, so the row stays small: no body, and only the error
 *    code and message as the reason (never the token).
 *  - Handler refusals (validation, business rules, ...) on @Audit() routes: a row under the route's
 *    event with the error code, details, route params and the (scrubbed, size-capped) body.
 */
@Injectable()
export class RefusalAuditor {
  private readonly anonymous = new RefusalBudget(ANONYMOUS_REFUSAL_ROWS_PER_MINUTE);
  private readonly accounts = new RefusalBudget(ACCOUNT_REFUSAL_ROWS_PER_MINUTE);

  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /** The route's @Audit() event, if any. */
  eventOf(context: ExecutionContext): AuditEventType | undefined {
    return routePlan(context).auditEvent;
  }

  /**
   * Whether this refusal's row may be written (the caller's budget), and what to add to its metadata
   * about rows left out before it.
   */
  private budget(req: AuditedRequest): Record<string, number> | null {
    const now = this.clock.now().getTime();
    if (req.user) {
      const b = this.accounts.take(`user:${req.user.id}`, now);
      if (!b.write) return null;
      return b.skipped > 0 ? { skipped_rows_from_this_account: b.skipped } : {};
    }
    const b = this.anonymous.take(req.ip ?? 'unknown', now);
    if (!b.write) return null;
    return b.skipped > 0 ? { skipped_rows_from_this_ip: b.skipped } : {};
  }

  /** Records a guard's refusal (see above) and marks the error as audited. */
  async guardRefusal(context: ExecutionContext, error: AppError, adminRoute: boolean): Promise<void> {
    // an outage (503) refuses nothing the client did, and the trail cannot be written anyway
    if (isAudited(error) || error.statusCode === 503) return;
    const routeEvent = this.eventOf(context);
    const event = adminRoute ? AuditEvent.ADMIN_ACCESS_DENIED : routeEvent;
    if (!event) return;
    const req = context.switchToHttp().getRequest<AuditedRequest>();
    const skipped = this.budget(req);
    if (skipped === null) {
      markAudited(error);
      return;
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
        ...skipped,
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
    if (body.statusCode === 503) return; // an outage, not a refusal (see guardRefusal)
    const skipped = this.budget(req);
    if (skipped === null) {
      markAudited(err);
      return;
    }
    await this.audit.record({
      event,
      action: actionOf(req),
      success: false,
      statusCode: body.statusCode,
      message: body.error,
      actor: req.user ? { id: req.user.id, userName: req.user.userName } : null,
      targetUserId: targetUserIdOf(req),
      metadata: {
        code: body.code,
        ...skipped,
        ...(body.details ? { details: body.details } : {}),
        ...attemptOf(req),
      },
      request: requestMetaOf(req),
    });
    markAudited(err);
  }
}

function actionOf(req: AuditedRequest): string {
  return `${req.method ?? ''} ${req.routeOptions?.url ?? ''}`.trim();
}
