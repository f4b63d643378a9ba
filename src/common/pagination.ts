import { applyDecorators, SetMetadata, type Type as ClassType, UseInterceptors } from '@nestjs/common';
import { ApiOkResponse } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { PagingInterceptor } from './interceptors/paging.interceptor';
import { PAGED } from './route-metadata';

/** `limit` (1–200, default 50) and `offset` (default 0), shared by every list route. */
export class PageQueryDto {
  /** Page size, 1–200. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  /** Rows to skip. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1_000_000_000)
  offset?: number;
}

export interface Page {
  limit: number;
  offset: number;
}

export function toPage(q: PageQueryDto): Page {
  return { limit: q.limit ?? 50, offset: q.offset ?? 0 };
}

/** A page of rows plus the total; the paging interceptor sends `items` as the array and `total` as X-Total-Count. */
export class Paged<T> {
  constructor(
    readonly items: T[],
    readonly total: number,
  ) {}
}

/**
 * Documents a paged list route: a plain JSON array of `item` (the Paged return type is unwrapped by the
 * paging interceptor, which the Swagger plugin cannot see) with the total in X-Total-Count.
 */
export function ApiPaged(
  item: ClassType<unknown>,
  description = 'The page of rows; the total in X-Total-Count.',
): MethodDecorator {
  return applyDecorators(
    SetMetadata(PAGED, true),
    // the route's own interceptor (not global: routes without one skip the rxjs pipeline)
    UseInterceptors(PagingInterceptor),
    ApiOkResponse({
      type: item,
      isArray: true,
      description,
      headers: {
        'X-Total-Count': { description: 'Rows matching the filters, all pages', schema: { type: 'integer' } },
      },
    }),
  );
}
