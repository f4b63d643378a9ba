import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import type { Page } from '../common/pagination';

/**
 * One page of a list, newest first: by `created_at`, then `id`, both descending (a stable order for
 * rows of the same millisecond), with the total for X-Total-Count.
 */
export async function newestFirstPage<T extends ObjectLiteral>(
  qb: SelectQueryBuilder<T>,
  alias: string,
  page: Page,
): Promise<{ rows: T[]; total: number }> {
  const [rows, total] = await qb
    .orderBy(`${alias}.created_at`, 'DESC')
    .addOrderBy(`${alias}.id`, 'DESC')
    .take(page.limit)
    .skip(page.offset)
    .getManyAndCount();
  return { rows, total };
}
