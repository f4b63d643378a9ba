import type { EntityManager, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import type { Page } from '../common/pagination';
import type { EntityRows } from './entity-rows';

/**
 * One page of a list, newest first: by `created_at`, then `id`, both descending (a stable order for
 * rows of the same millisecond), with the total for X-Total-Count. The page is read first; when it
 * shows where the list ends (fewer rows than the limit, or none from the start) the total is exact
 * without counting, so a short history costs one statement, and only a full page (or a page past the
 * end) asks for COUNT.
 */
export async function newestFirstPage<T extends ObjectLiteral>(
  qb: SelectQueryBuilder<T>,
  alias: string,
  page: Page,
): Promise<{ rows: T[]; total: number }> {
  const rows = await qb
    .clone()
    .orderBy(`${alias}.created_at`, 'DESC')
    .addOrderBy(`${alias}.id`, 'DESC')
    .take(page.limit)
    .skip(page.offset)
    .getMany();
  return { rows, total: await pageTotal(rows.length, page, null, () => qb.getCount()) };
}

/**
 * The total of a page's list: from the page when it shows where the list ends; else the count kept
 * elsewhere (a counter read a moment before the page may not hold a row committed since, so never
 * below what the page shows; an empty page past the end shows nothing); else `countRows()`.
 */
async function pageTotal(found: number, page: Page, count: number | null, countRows: () => Promise<number>) {
  const shown = found > 0 ? page.offset + found : 0;
  return knownTotal(found, page) ?? (count !== null ? Math.max(count, shown) : await countRows());
}

/** A list's statement parts for `sqlPage`: WHERE and ORDER BY texts (`?` placeholders) and the values. */
export interface ListSql {
  where: string;
  params: unknown[];
  orderBy: string;
  /** What is counted for the total (default `COUNT(*)`). */
  countExpr?: string;
}

/**
 * One page of a list read with hand-written SQL (the routes every dashboard page calls): the rows
 * through `rows` (every column, hydrated by TypeORM's own metadata and driver, as a repository read
 * gives them), `LIMIT ? OFFSET ?`, on `m` (the primary, or the replica ReadReplica routed the read
 * to), and the total as newestFirstPage finds it. Building a query builder's SELECT and turning its
 * raw rows into entities cost more CPU than the statement itself (docs/BENCHMARKS.md, the list rows).
 */
export async function sqlPage<T extends ObjectLiteral>(
  m: EntityManager,
  rows: EntityRows<T>,
  list: ListSql,
  page: Page,
  count: number | null = null,
): Promise<{ rows: T[]; total: number }> {
  const raw = await m.query<Record<string, unknown>[]>(
    `${rows.selectFromSql} WHERE ${list.where} ORDER BY ${list.orderBy} LIMIT ? OFFSET ?`,
    [...list.params, page.limit, page.offset],
  );
  const out = raw.map((r) => rows.hydrate(r) as T);
  const total = await pageTotal(out.length, page, count, async () => {
    const [c] = await m.query<{ cnt: unknown }[]>(
      `SELECT ${list.countExpr ?? 'COUNT(*)'} AS cnt FROM ${rows.from} WHERE ${list.where}`,
      list.params,
    );
    return Number(c.cnt);
  });
  return { rows: out, total };
}

/** The list's total when a page of `found` rows shows it (it ends within the page), else null. */
export function knownTotal(found: number, page: Page): number | null {
  if (found > 0 && found < page.limit) return page.offset + found;
  if (found === 0 && page.offset === 0) return 0;
  return null;
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
