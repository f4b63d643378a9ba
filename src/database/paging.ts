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

/**
 * Every row of a query, newest first, in keyset chunks of `size` (each chunk continues after the last
 * row of the one before, by (created_at, id)), so a streamed export never holds all rows in memory
 * and walks a (…, created_at) index without OFFSET. `query` builds the filtered query afresh per chunk.
 */
export async function* newestFirstChunks<T extends ObjectLiteral & { createdAt: Date; id: number }>(
  query: () => SelectQueryBuilder<T>,
  alias: string,
  size: number,
): AsyncGenerator<T[]> {
  let cursor: { createdAt: Date; id: number } | null = null;
  for (;;) {
    const qb = query();
    if (cursor) {
      qb.andWhere(`(${alias}.created_at < :cAt OR (${alias}.created_at = :cAt AND ${alias}.id < :cId))`, {
        cAt: cursor.createdAt,
        cId: cursor.id,
      });
    }
    const chunk = await qb
      .orderBy(`${alias}.created_at`, 'DESC')
      .addOrderBy(`${alias}.id`, 'DESC')
      .take(size)
      .getMany();
    if (chunk.length === 0) return;
    yield chunk;
    if (chunk.length < size) return;
    const last = chunk[chunk.length - 1];
    cursor = { createdAt: last.createdAt, id: last.id };
  }
}
