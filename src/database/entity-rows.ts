import type { DataSource, EntityManager, EntityMetadata, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * Hand-written reads for the hottest lookups (every authenticated request loads its session and
 * user), hydrated through TypeORM's own column metadata and driver: the same values a repository
 * read gives (datetimes per dialect, bigint transformers), without building the query each call.
 * Building a query-builder SELECT cost more CPU than running it (docs/BENCHMARKS.md, GET /whoami).
 */
export class EntityRows<T extends ObjectLiteral> {
  /** The entity's table, quoted for the dialect. */
  readonly table: string;
  private readonly metadata: EntityMetadata;
  private readonly columns: { meta: EntityMetadata['columns'][number]; quoted: string; label: string }[];

  constructor(
    private readonly dataSource: DataSource,
    target: EntityTarget<T>,
    /** Table alias in the SQL; selected columns are labelled `<alias>_<column>`. */
    readonly alias: string,
  ) {
    this.metadata = dataSource.getMetadata(target);
    const q = (name: string) => dataSource.driver.escape(name);
    this.table = q(this.metadata.tablePath);
    if (this.metadata.embeddeds.length > 0)
      throw new Error(`${this.metadata.name}: embedded columns are not supported`);
    // Virtual columns are join columns without a property of their own: not part of the entity.
    this.columns = this.metadata.columns
      .filter((c) => !c.isVirtual)
      .map((meta) => ({
        meta,
        quoted: `${q(alias)}.${q(meta.databaseName)}`,
        label: `${alias}_${meta.databaseName}`,
      }));
  }

  /** The select list: every column of the entity, as `alias.column AS alias_column`. */
  get select(): string {
    return this.columns.map((c) => `${c.quoted} AS ${this.dataSource.driver.escape(c.label)}`).join(', ');
  }

  /** `FROM`-clause text: the table with its alias. */
  get from(): string {
    return `${this.table} ${this.dataSource.driver.escape(this.alias)}`;
  }

  /** `SELECT <every column> FROM <table> WHERE <property's column> = ?`. */
  selectBy(property: keyof T & string): string {
    const column = this.columns.find((c) => c.meta.propertyName === property);
    if (!column) throw new Error(`${this.metadata.name} has no column for ${property}`);
    return `SELECT ${this.select} FROM ${this.from} WHERE ${column.quoted} = ?`;
  }

  /** The entity in a raw row selected with `select`, or null when the row has none of it (outer join). */
  hydrate(row: Record<string, unknown>): T | null {
    const primary = this.metadata.primaryColumns[0];
    if (primary && (row[`${this.alias}_${primary.databaseName}`] ?? null) === null) return null;
    const entity = this.metadata.create() as T;
    for (const c of this.columns) {
      (entity as Record<string, unknown>)[c.meta.propertyName] = this.dataSource.driver.prepareHydratedValue(
        row[c.label],
        c.meta,
      );
    }
    return entity;
  }

  /** Runs a SELECT (in `m`'s transaction when given) and hydrates its first row. */
  async one(sql: string, params: unknown[], m?: EntityManager): Promise<T | null> {
    const rows = await queryRows(this.dataSource, sql, params, m);
    return rows.length > 0 ? this.hydrate(rows[0]) : null;
  }
}

/** Raw rows of a SELECT, in `m`'s transaction when given. */
export async function queryRows(
  dataSource: DataSource,
  sql: string,
  params: unknown[],
  m?: EntityManager,
): Promise<Record<string, unknown>[]> {
  return (m ?? dataSource.manager).query<Record<string, unknown>[]>(sql, params);
}
