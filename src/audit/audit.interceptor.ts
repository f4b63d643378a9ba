import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { catchError, from, mergeMap, type Observable, throwError } from 'rxjs';
import type { Principal } from '../auth/principal';
import { AppError } from '../common/errors/app-error';
import { toErrorBody } from '../common/filters/all-exceptions.filter';
import { requestMetaOf } from '../common/http/request-meta';
import type { AuditEventType } from './audit-events';
import { targetUserIdOf } from './audit-target';
import { AUDIT_EVENT } from './audit.decorator';
import { AuditService } from './audit.service';

interface Req {
  url?: string;
  user?: Principal;
  params?: Record<string, string>;
  method?: string;
  routeOptions?: { url?: string };
}

/** Records refused requests of routes marked with @Audit(); see the decorator. */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditService,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const event = this.reflector.get<AuditEventType | undefined>(AUDIT_EVENT, context.getHandler());
    if (!event) return next.handle();
    const req = context.switchToHttp().getRequest<Req>();
    return next.handle().pipe(
      catchError((err: unknown) => {
        if (err instanceof AppError && err.audited) return throwError(() => err);
        const { body } = toErrorBody(err);
        return from(
          this.audit.record({
            event,
            action: `${req.method ?? ''} ${req.routeOptions?.url ?? ''}`.trim(),
            success: false,
            statusCode: body.statusCode,
            message: body.error,
            actor: req.user ? { id: req.user.id, userName: req.user.userName } : null,
            targetUserId: targetUserIdOf(req),
            metadata: { code: body.code, ...(body.details ? { details: body.details } : {}) },
            request: requestMetaOf(req as Parameters<typeof requestMetaOf>[0]),
          }),
        ).pipe(mergeMap(() => throwError(() => err)));
      }),
    );
  }
}
