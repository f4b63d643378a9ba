/** True when a driver error is a unique-key violation, on MySQL/MariaDB or SQLite. */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; errno?: unknown; driverError?: unknown };
  if (e.code === 'ER_DUP_ENTRY' || e.errno === 1062) return true;
  if (e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return true;
  return e.driverError !== undefined && e.driverError !== err ? isUniqueViolation(e.driverError) : false;
}

/** True when the database is unreachable or the connection dropped. */
export function isConnectionError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  return (
    typeof code === 'string' &&
    [
      'ECONNREFUSED',
      'PROTOCOL_CONNECTION_LOST',
      'ETIMEDOUT',
      'ECONNRESET',
      'EPIPE',
      'SQLITE_CANTOPEN',
    ].includes(code)
  );
}

/** MySQL deadlock (1213) or lock wait timeout (1205), once the transaction runner gave up retrying. */
export function isRetryableLockError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { errno?: unknown; driverError?: { errno?: unknown } };
  const n = e.errno ?? e.driverError?.errno;
  return n === 1213 || n === 1205;
}
