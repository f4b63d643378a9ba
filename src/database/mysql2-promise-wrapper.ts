import { PoolConnection } from 'mysql2';

/**
 * TypeORM's MySQL query runner calls `connection.promise()` on every query, and mysql2 answers it
 * with `require('./promise/pool_connection.js')` plus a new promise wrapper (an EventEmitter) each
 * time. The `require` of an already loaded module still resolves the path through the module
 * loader: about 3% of the CPU of `GET /health` under load, once per statement of every request
 * (docs/BENCHMARKS.md, profile in the issue-18 note). The wrapper holds nothing but the connection
 * and the Promise class, and registers listeners on the connection only when someone listens on
 * it (TypeORM never does), so one wrapper per connection, made on first use, serves every query.
 * Installed once, when the MySQL data source options are built (data-source-options.ts).
 */
type PromiseFn = (this: Record<symbol, unknown>, promiseImpl?: PromiseConstructor) => unknown;

const WRAPPER = Symbol('exchange-rate-api.promiseWrapper');
let installed = false;

export function cachePoolConnectionPromiseWrapper(): void {
  if (installed) return;
  installed = true;
  const proto = PoolConnection.prototype as unknown as { promise: PromiseFn };
  const original = proto.promise;
  proto.promise = function promise(this: Record<symbol, unknown>, promiseImpl?: PromiseConstructor) {
    // a caller asking for its own Promise class gets its own wrapper, as before
    if (promiseImpl !== undefined) return original.call(this, promiseImpl);
    return (this[WRAPPER] ??= original.call(this));
  };
}
