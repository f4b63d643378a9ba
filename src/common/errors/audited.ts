/**
 * Errors whose audit row is already written (by the service that refused, or by a guard), so the
 * audit interceptor does not write a second one. Any thrown object can be marked, not only AppErrors:
 * a service that audits its own failure (e.g. a backup that hit a full disk) marks the raw error.
 */
const audited = new WeakSet<object>();

export function markAudited(err: unknown): void {
  if (typeof err === 'object' && err !== null) audited.add(err);
}

export function isAudited(err: unknown): boolean {
  return typeof err === 'object' && err !== null && audited.has(err);
}
