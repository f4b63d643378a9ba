/** True when a driver error is a unique-key violation, on MySQL/MariaDB or SQLite. */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; errno?: unknown; driverError?: unknown };
  if (e.code === 'ER_DUP_ENTRY' || e.errno === 1062) return true;
  if (e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return true;
  return e.driverError !== undefined && e.driverError !== err ? isUniqueViolation(e.driverError) : false;
}

/** Driver codes and errnos meaning the database cannot be reached or refuses this service's account. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  // mysql2's pool cluster (with read replicas) while a server is offline
  'POOL_NONEONLINE',
  'POOL_NOEXIST',
  'ER_CON_COUNT_ERROR',
  'ER_ACCESS_DENIED_ERROR',
  'ER_ACCOUNT_HAS_BEEN_LOCKED',
  'ER_SERVER_SHUTDOWN',
  'SQLITE_CANTOPEN',
  'SQLITE_BUSY',
  'SQLITE_IOERR',
]);
/**
 * 1040 too many connections, 1045 access denied, 1053 shutdown, 2002/2003/2006/2013 connection lost,
 * 3118/4151 account locked; Galera: 1047 the node is not ready (not in the primary component, joining),
 * 1180 an error during COMMIT (the node lost the cluster as it committed: the outcome is unknown).
 */
const UNAVAILABLE_ERRNOS = new Set([1040, 1045, 1047, 1053, 1180, 2002, 2003, 2006, 2013, 3118, 4151]);
/** Messages of pools and connections that cannot take a query (no code). */
const UNAVAILABLE_MESSAGES = [
  /Pool is closed/i,
  /Can't add new command when connection is in closed state/i,
  /connection is in closed state/i,
  /Connection lost/i,
];

/**
 * True when an error means the database cannot be reached now (down, unreachable, refusing this
 * account, the connection dropped): answered 503, never 401 or 500.
 */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 3) return false;
  const e = err as {
    code?: unknown;
    errno?: unknown;
    message?: unknown;
    driverError?: unknown;
    cause?: unknown;
  };
  if (typeof e.code === 'string' && UNAVAILABLE_CODES.has(e.code)) return true;
  if (typeof e.errno === 'number' && UNAVAILABLE_ERRNOS.has(e.errno)) return true;
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.some((m) => m.test(e.message as string)))
    return true;
  return (
    (e.driverError !== undefined &&
      e.driverError !== err &&
      isDatabaseUnavailable(e.driverError, depth + 1)) ||
    (e.cause !== undefined && e.cause !== err && isDatabaseUnavailable(e.cause, depth + 1))
  );
}

/** MySQL deadlock (1213) or lock wait timeout (1205), once the transaction runner gave up retrying. */
export function isRetryableLockError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { errno?: unknown; driverError?: { errno?: unknown } };
  const n = e.errno ?? e.driverError?.errno;
  return n === 1213 || n === 1205;
}
