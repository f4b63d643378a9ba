import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '../config/app-config';
import { ENTITIES } from './entities';
import { cachePoolConnectionPromiseWrapper } from './mysql2-promise-wrapper';

/** Where the compiled (dist) or source (ts-jest/swc) migrations of a dialect live. */
export function migrationsGlob(type: DatabaseConfig['type']): string {
  // This file is src/database (sources) or dist/src/database (build): migrations/ is two levels up.
  return join(__dirname, '..', '..', 'migrations', type, '*.{js,ts}').replace(/\\/g, '/');
}

/** One pure function builds the DataSource options for the app, the CLI and the tests. */
export function buildDataSourceOptions(db: DatabaseConfig): DataSourceOptions {
  const common = {
    entities: ENTITIES,
    migrations: [migrationsGlob(db.type)],
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each' as const,
    synchronize: false,
    migrationsRun: false,
    logging: db.logging,
  };
  if (db.type === 'sqlite') {
    if (db.sqlitePath !== ':memory:') mkdirSync(dirname(db.sqlitePath), { recursive: true });
    return {
      ...common,
      type: 'better-sqlite3',
      database: db.sqlitePath,
      enableWAL: db.sqlitePath !== ':memory:',
      timeout: 10_000,
      prepareDatabase: (conn: { pragma(sql: string): unknown }) => {
        conn.pragma('foreign_keys = ON');
        conn.pragma('busy_timeout = 10000');
        conn.pragma('synchronous = NORMAL');
      },
    };
  }
  cachePoolConnectionPromiseWrapper();
  const primary = {
    host: db.host,
    port: db.port,
    username: db.user,
    password: db.password,
    database: db.name,
  };
  // With replicas, TypeORM keeps a pool per server; every query goes to the primary unless the code
  // asks for a replica (ReadReplica), so nothing reads a replica by accident.
  const servers =
    db.replicas.length === 0
      ? primary
      : {
          replication: {
            master: primary,
            slaves: db.replicas.map((r) => ({
              host: r.host,
              port: r.port,
              username: r.user,
              password: r.password,
              database: r.name,
            })),
            defaultMode: 'master' as const,
            // mysql2's pool cluster takes a server out after 5 connection errors, by default for
            // good: back in after a second instead, so an outage of the primary ends with it
            restoreNodeTimeout: 1000,
          },
        };
  return {
    ...common,
    type: 'mariadb',
    ...servers,
    timezone: 'Z',
    charset: 'utf8mb4_unicode_ci',
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: false,
    // trace: mysql2 otherwise captures a stack trace on every query (for "long" error stacks), about
    // 6% of the CPU of an authenticated read; errors still carry their SQL and MySQL code.
    extra: { connectionLimit: 20, trace: false },
  };
}
