import type { DataSource, EntityManager, EntityMetadata, EntityTarget, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';

/** The generated id in a raw insert result: mysql2's result header, better-sqlite3's rowid. */
function rawInsertId(raw: unknown): number {
  if (typeof raw === 'number' || typeof raw === 'bigint') return Number(raw); // better-sqlite3: lastInsertRowid
  if (Array.isArray(raw)) return Number((raw[0] as { id?: unknown } | undefined)?.id); // a RETURNING result
  return Number((raw as { insertId?: number | string }).insertId); // mysql2: the result header
}

/** An INSERT of one shape of row: `head` then one `tuple` per row, comma-separated. */
interface RowSql {
  head: string;
  tuple: string;
}

/**
 * INSERTs of one entity's rows, as hand-written SQL built from TypeORM's own column metadata
 * and driver: the columns the row gives a value for (the others take their database default, as
 * TypeORM's DEFAULT does), each value through `driver.preparePersistentValue` (transformers,
 * booleans, datetimes per dialect), so the stored row is the one TypeORM's insert stores. The SQL of
 * each shape of row is built once. Building TypeORM's InsertQueryBuilder cost more CPU than the
 * whole rest of the insert (profile of POST /transaction, docs/BENCHMARKS.md).
 */
class RowInsert {
  private readonly columns: ColumnMetadata[];
  private readonly sqlByShape = new Map<string, RowSql>();
  /** Rows this cannot write the way TypeORM would (embedded entities): left to the query builder. */
  readonly supported: boolean;

  constructor(
    private readonly dataSource: DataSource,
    private readonly metadata: EntityMetadata,
  ) {
    this.columns = metadata.columns.filter((c) => !c.isVirtual);
    this.supported =
      metadata.embeddeds.length === 0 && !this.columns.some((c) => c.isVersion || c.isDiscriminator);
  }

  /**
   * The row's values and the SQL of its shape (`head` + one `tuple` per row), or null when the query
   * builder must write the row: a value is a raw SQL function, or the row gives no value at all.
   */
  values(row: ObjectLiteral): { sql: RowSql; params: unknown[] } | null {
    const driver = this.dataSource.driver;
    let shape = '';
    const params: unknown[] = [];
    for (const c of this.columns) {
      const value: unknown = c.getEntityValue(row);
      if (value === undefined) {
        shape += '0';
        continue;
      }
      if (typeof value === 'function') return null;
      shape += '1';
      params.push(driver.preparePersistentValue(value, c));
    }
    if (params.length === 0) return null; // all defaults: the syntax differs by dialect
    let sql = this.sqlByShape.get(shape);
    if (sql === undefined) {
      const q = (name: string) => driver.escape(name);
      const used = this.columns.filter((_c, i) => shape[i] === '1');
      sql = {
        head: `INSERT INTO ${q(this.metadata.tablePath)} (${used.map((c) => q(c.databaseName)).join(', ')}) VALUES `,
        tuple: `(${used.map(() => '?').join(', ')})`,
      };
      this.sqlByShape.set(shape, sql);
    }
    return { sql, params };
  }
}

/** By data source, then by entity target (a class, mostly). */
const inserts = new WeakMap<DataSource, Map<unknown, RowInsert>>();

function rowInsert(dataSource: DataSource, target: EntityTarget<ObjectLiteral>): RowInsert {
  const byTarget = inserts.get(dataSource) ?? new Map<unknown, RowInsert>();
  inserts.set(dataSource, byTarget);
  let insert = byTarget.get(target);
  if (!insert) byTarget.set(target, (insert = new RowInsert(dataSource, dataSource.getMetadata(target))));
  return insert;
}

/**
 * Inserts one row and returns its generated id, in one statement on both dialects, without
 * TypeORM's entity update (which on SQLite reads back every column with a database default in a
 * second statement; the row's values are what the caller passed anyway) and without building a
 * query builder per call (see RowInsert).
 */
export async function insertOne<T extends ObjectLiteral>(
  m: EntityManager,
  target: EntityTarget<T>,
  row: QueryDeepPartialEntity<T>,
): Promise<number> {
  const insert = rowInsert(m.connection, target);
  const one = insert.supported ? insert.values(row) : null;
  if (one) return rawInsertId(await m.query(one.sql.head + one.sql.tuple, one.params));
  const res = await m.createQueryBuilder().insert().into(target).values(row).updateEntity(false).execute();
  return rawInsertId(res.raw);
}

/**
 * Inserts rows of one entity in one multi-row statement (see RowInsert), without reading anything
 * back. Rows of different shapes (a value given in one and not another) go through the query
 * builder, which writes DEFAULT for the missing ones.
 */
export async function insertMany<T extends ObjectLiteral>(
  m: EntityManager,
  target: EntityTarget<T>,
  rows: QueryDeepPartialEntity<T>[],
): Promise<void> {
  if (rows.length === 0) return;
  const insert = rowInsert(m.connection, target);
  const each = insert.supported ? rows.map((r) => insert.values(r as ObjectLiteral)) : [null];
  const sql = each[0]?.sql;
  if (sql && each.every((v) => v?.sql === sql)) {
    const tuples = Array.from({ length: rows.length }, () => sql.tuple).join(', ');
    await m.query(
      sql.head + tuples,
      each.flatMap((v) => v?.params ?? []),
    );
    return;
  }
  await m.createQueryBuilder().insert().into(target).values(rows).updateEntity(false).execute();
}
