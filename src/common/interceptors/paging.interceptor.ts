import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { map, type Observable } from 'rxjs';
import { Paged } from '../pagination';
import { routePlan } from '../route-plan';

/** Lists are plain arrays on the wire; their total travels in the X-Total-Count header. */
@Injectable()
export class PagingInterceptor implements NestInterceptor {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (!routePlan(context).paged) return next.handle(); // only @ApiPaged routes answer a Paged
    return next.handle().pipe(
      map((value: unknown) => {
        if (!(value instanceof Paged)) return value;
        const page = value as Paged<unknown>;
        const res: unknown = context.switchToHttp().getResponse();
        this.adapterHost.httpAdapter.setHeader(res, 'X-Total-Count', String(page.total));
        return page.items;
      }),
    );
  }
}
