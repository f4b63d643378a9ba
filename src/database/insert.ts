import type { EntityManager, EntityTarget, InsertResult, ObjectLiteral } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';

/** The generated integer id of a single-row insert, as both drivers report it. */
export function insertedId(res: InsertResult): number {
  return Number((res.identifiers[0] as { id: number | string }).id);
}

/**
 * Inserts one row and returns its generated id, in one statement on both dialects: without
 * TypeORM's entity update, which on SQLite reads back every column with a database default in a
 * second statement (the row's values are what the caller passed anyway).
 */
export async function insertOne<T extends ObjectLiteral>(
  m: EntityManager,
  target: EntityTarget<T>,
  row: QueryDeepPartialEntity<T>,
): Promise<number> {
  const res = await m.createQueryBuilder().insert().into(target).values(row).updateEntity(false).execute();
  const raw = res.raw as { insertId?: number | string } | { id?: number | string }[] | number | bigint;
  if (typeof raw === 'number' || typeof raw === 'bigint') return Number(raw); // better-sqlite3: lastInsertRowid
  if (Array.isArray(raw)) return Number(raw[0]?.id); // a RETURNING result
  return Number(raw.insertId); // mysql2: the result header
}
