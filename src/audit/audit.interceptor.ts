import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { catchError, from, mergeMap, type Observable, throwError } from 'rxjs';
import { RefusalAuditor } from './refusal-auditor';

/**
 * Records refused requests of routes marked with @Audit() (validation failures, business-rule
 * refusals, ...) unless the service already did; see the decorator. Guard refusals happen before
 * interceptors run: the guards record those themselves through the same RefusalAuditor.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(private readonly refusals: RefusalAuditor) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const event = this.refusals.eventOf(context);
    if (!event) return next.handle();
    return next
      .handle()
      .pipe(
        catchError((err: unknown) =>
          from(this.refusals.handlerRefusal(context, event, err)).pipe(mergeMap(() => throwError(() => err))),
        ),
      );
  }
}
