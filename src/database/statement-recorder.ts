import { AsyncLocalStorage } from 'node:async_hooks';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger as TypeOrmLogger, QueryRunner } from 'typeorm';

/** One SQL statement as the driver was asked to run it. */
export interface RecordedStatement {
  sql: string;
  params: unknown[];
}

/** The statements of one HTTP request, written as one JSON line. */
export interface RecordedRequest {
  method: string;
  route: string;
  status: number;
  statements: RecordedStatement[];
}

export interface RecordingStore {
  statements: RecordedStatement[];
  done: boolean;
}

const MAX_PARAM_CHARS = 200;

function printable(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v)) return `<${v.length} bytes>`;
  if (typeof v === 'string' && v.length > MAX_PARAM_CHARS) return `${v.slice(0, MAX_PARAM_CHARS)}…`;
  return v;
}

/**
 * Records every SQL statement each HTTP request makes (DB_STATEMENT_LOG=<file>; for the benchmark,
 * which must compare ours with its baselines statement by statement, and for finding extra round
 * trips). A TypeORM logger: everything we run goes through TypeORM (repositories, query builders,
 * raw queries, transactions' BEGIN/COMMIT), so nothing escapes it. A request's statements are those
 * run in its async context until its answer is sent, written as one JSON line when it is.
 * Off by default: it costs a closure per statement.
 */
export class StatementRecorder implements TypeOrmLogger {
  private static readonly byFile = new Map<string, StatementRecorder>();
  private readonly als = new AsyncLocalStorage<RecordingStore>();

  private constructor(private readonly file: string) {}

  /** The recorder of a file (one per file: TypeORM's options and the HTTP hooks share it). */
  static for(file: string): StatementRecorder {
    let r = StatementRecorder.byFile.get(file);
    if (!r) {
      mkdirSync(dirname(file), { recursive: true });
      r = new StatementRecorder(file);
      StatementRecorder.byFile.set(file, r);
    }
    return r;
  }

  /** Runs `fn` (the rest of a request) with a fresh statement list. */
  begin(fn: () => void): RecordingStore {
    const store: RecordingStore = { statements: [], done: false };
    this.als.run(store, fn);
    return store;
  }

  /** The request was answered: its statements go to the file (later ones are not its own). */
  end(store: RecordingStore, method: string, route: string, status: number): void {
    if (store.done) return;
    store.done = true;
    const line: RecordedRequest = { method, route, status, statements: store.statements };
    appendFileSync(this.file, `${JSON.stringify(line)}\n`);
  }

  logQuery(query: string, parameters?: unknown[], _queryRunner?: QueryRunner): void {
    const store = this.als.getStore();
    if (!store || store.done) return;
    store.statements.push({ sql: query, params: (parameters ?? []).map(printable) });
  }

  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}
