import {
  type DataSource,
  type EntityManager,
  type EntityMetadata,
  type EntityTarget,
  type ObjectLiteral,
  QueryFailedError,
} from 'typeorm';

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
  private readonly columns: {
    meta: EntityMetadata['columns'][number];
    quoted: string;
    label: string;
    property: string;
    /** The column's value as the entity holds it (what the driver's prepareHydratedValue gives). */
    read: (value: unknown) => unknown;
  }[];
  private selectFrom?: string;

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
        property: meta.propertyName,
        read: columnReader(dataSource, meta),
      }));
  }

  /** The select list: every column of the entity, as `alias.column AS alias_column`. */
  get select(): string {
    return this.columns.map((c) => `${c.quoted} AS ${this.dataSource.driver.escape(c.label)}`).join(', ');
  }

  /** `SELECT <every column> FROM <table> <alias>`, built once. */
  get selectFromSql(): string {
    return (this.selectFrom ??= `SELECT ${this.select} FROM ${this.from}`);
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
    for (const c of this.columns) (entity as Record<string, unknown>)[c.property] = c.read(row[c.label]);
    return entity;
  }

  /** Runs a SELECT (in `m`'s transaction when given) and hydrates its first row. */
  async one(sql: string, params: unknown[], m?: EntityManager): Promise<T | null> {
    const rows = await queryRows(this.dataSource, sql, params, m);
    return rows.length > 0 ? this.hydrate(rows[0]) : null;
  }
}

/**
 * Column types the MySQL and SQLite drivers' prepareHydratedValue hand over as they are (then
 * through the column's transformer): no boolean, date, time, JSON, array or enum conversion.
 */
const AS_READ_TYPES = new Set(['varchar', 'char', 'text', 'int', 'integer', 'bigint', 'double', 'decimal']);

/**
 * A column's hydration: for the types the drivers pass through, the value through the column's one
 * transformer directly (what ApplyValueTransformers does for a single transformer), skipping the
 * driver's chain of type checks on every value of every row (a page has hundreds); else the driver's
 * own prepareHydratedValue. test/entity-rows.e2e-spec.ts pins reads equal to repository reads.
 */
function columnReader(
  dataSource: DataSource,
  meta: EntityMetadata['columns'][number],
): (value: unknown) => unknown {
  const transformer = meta.transformer;
  if (typeof meta.type === 'string' && AS_READ_TYPES.has(meta.type) && !Array.isArray(transformer)) {
    if (!transformer) return (value) => value;
    return (value) => transformer.from(value) as unknown;
  }
  return (value) => dataSource.driver.prepareHydratedValue(value, meta) as unknown;
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

/** What `preparedRows` needs of mysql2's (callback) pool connection. */
interface ExecutingConnection {
  execute(sql: string, params: unknown[], cb: (err: Error | null, rows: unknown) => void): void;
  release(): void;
}

/**
 * Raw rows of a SELECT outside any transaction, as a prepared statement where the driver has them:
 * on MySQL/MariaDB mysql2's `execute` (the server parses the statement once per connection, mysql2
 * keeps it in the connection's statement cache, and the row comes in the binary protocol); on
 * SQLite `queryRows` (better-sqlite3 prepares every statement already). For the statement every
 * authenticated request runs (the session with its user). Logged as TypeORM logs its own statements
 * (so DB_STATEMENT_LOG records it), failures wrapped as TypeORM wraps them (QueryFailedError with the
 * driver's error: a database that cannot be reached still answers 503). The values are those of
 * the text protocol with the pool's options (timezone 'Z', big numbers as strings):
 * test/read-path.e2e-spec.ts compares the two.
 */
export async function preparedRows(
  dataSource: DataSource,
  sql: string,
  params: unknown[],
): Promise<Record<string, unknown>[]> {
  const type = dataSource.options.type;
  if (type !== 'mysql' && type !== 'mariadb') return queryRows(dataSource, sql, params);
  const driver = dataSource.driver as unknown as { obtainMasterConnection(): Promise<ExecutingConnection> };
  const conn = await driver.obtainMasterConnection();
  dataSource.logger.logQuery(sql, params);
  try {
    return await new Promise<Record<string, unknown>[]>((ok, fail) =>
      conn.execute(sql, params, (err, rows) => (err ? fail(err) : ok(rows as Record<string, unknown>[]))),
    );
  } catch (err) {
    dataSource.logger.logQueryError(err as Error, sql, params);
    throw new QueryFailedError(sql, params, err as Error);
  } finally {
    conn.release();
  }
}
