/** Every audited event type. */
export const AuditEvent = {
  USER_REGISTER: 'USER_REGISTER',
  LOGIN_SUCCESS: 'LOGIN_SUCCESS',
  LOGIN_FAILURE: 'LOGIN_FAILURE',
  LOGOUT: 'LOGOUT',
  TOKEN_REFRESH: 'TOKEN_REFRESH',
  TOKEN_REUSE_DETECTED: 'TOKEN_REUSE_DETECTED',
  FRESH_LOGIN: 'FRESH_LOGIN',
  PASSWORD_CHANGE: 'PASSWORD_CHANGE',
  PREFERENCES_UPDATE: 'PREFERENCES_UPDATE',
  ADMIN_USER_STATUS_CHANGE: 'ADMIN_USER_STATUS_CHANGE',
  ADMIN_USER_ROLE_CHANGE: 'ADMIN_USER_ROLE_CHANGE',
  ADMIN_USER_TRUST_CHANGE: 'ADMIN_USER_TRUST_CHANGE',
  ADMIN_PREFERENCES_UPDATE: 'ADMIN_PREFERENCES_UPDATE',
  ADMIN_CREATE: 'ADMIN_CREATE',
  ADMIN_ACCESS_DENIED: 'ADMIN_ACCESS_DENIED',
  ADMIN_LOG_EXPORT: 'ADMIN_LOG_EXPORT',
  RATE_LIMIT_HIT: 'RATE_LIMIT_HIT',
  ADMIN_WALLET_ADJUST: 'ADMIN_WALLET_ADJUST',
  TRANSACTION_CREATE: 'TRANSACTION_CREATE',
  ADMIN_RATE_CREATE: 'ADMIN_RATE_CREATE',
  ADMIN_RATE_IMPORT: 'ADMIN_RATE_IMPORT',
  ADMIN_RATE_OVERRIDE: 'ADMIN_RATE_OVERRIDE',
  ADMIN_OFFICIAL_RATE_SET: 'ADMIN_OFFICIAL_RATE_SET',
  ALERT_CREATE: 'ALERT_CREATE',
  ALERT_DELETE: 'ALERT_DELETE',
  ALERT_TRIGGERED: 'ALERT_TRIGGERED',
  ADMIN_ALERT_DELETE: 'ADMIN_ALERT_DELETE',
  WATCHLIST_ADD: 'WATCHLIST_ADD',
  WATCHLIST_REMOVE: 'WATCHLIST_REMOVE',
  OFFER_CREATE: 'OFFER_CREATE',
  OFFER_CANCEL: 'OFFER_CANCEL',
  OFFER_ACCEPT: 'OFFER_ACCEPT',
  OFFER_EXPIRE: 'OFFER_EXPIRE',
  ADMIN_OFFER_CANCEL: 'ADMIN_OFFER_CANCEL',
  BACKUP_CREATE: 'BACKUP_CREATE',
  BACKUP_RESTORE: 'BACKUP_RESTORE',
  DEPOSIT_REQUEST: 'DEPOSIT_REQUEST',
  DEPOSIT_CANCEL: 'DEPOSIT_CANCEL',
  DEPOSIT_CONFIRM: 'DEPOSIT_CONFIRM',
  DEPOSIT_REJECT: 'DEPOSIT_REJECT',
  WITHDRAWAL_REQUEST: 'WITHDRAWAL_REQUEST',
  WITHDRAWAL_CANCEL: 'WITHDRAWAL_CANCEL',
  WITHDRAWAL_COMPLETE: 'WITHDRAWAL_COMPLETE',
  WITHDRAWAL_REJECT: 'WITHDRAWAL_REJECT',
  QUOTE_CREATE: 'QUOTE_CREATE',
  WEBHOOK_CREATE: 'WEBHOOK_CREATE',
  WEBHOOK_DELETE: 'WEBHOOK_DELETE',
  WEBHOOK_ROTATE_SECRET: 'WEBHOOK_ROTATE_SECRET',
  CONVERSION_CREATE: 'CONVERSION_CREATE',
} as const;

export type AuditEventType = (typeof AuditEvent)[keyof typeof AuditEvent];

/**
 * The seed's event names, accepted by the log filters (GET /logs, /admin/logs and the export) as
 * aliases of ours. The seed told the two logouts apart by name; here both are LOGOUT, told apart by
 * the route (path) of the row. Seed names that equal ours (USER_REGISTER, ALERT_CREATE, ...) need
 * no alias.
 */
export const SEED_EVENT_ALIASES: Readonly<Record<string, { event: AuditEventType; path?: string }>> = {
  AUTH_LOGIN_FAIL: { event: AuditEvent.LOGIN_FAILURE },
  AUTH_LOGIN_SUCCESS: { event: AuditEvent.LOGIN_SUCCESS },
  AUTH_LOGOUT: { event: AuditEvent.LOGOUT, path: '/logout' },
  AUTH_LOGOUT_REFRESH: { event: AuditEvent.LOGOUT, path: '/logout_refresh' },
  TX_CREATE: { event: AuditEvent.TRANSACTION_CREATE },
  PREF_UPDATE: { event: AuditEvent.PREFERENCES_UPDATE },
  WATCHLIST_DELETE: { event: AuditEvent.WATCHLIST_REMOVE },
};

/** Every name the `event_type` filter accepts: ours, then the seed's aliases. */
export const EVENT_FILTER_NAMES: readonly string[] = [
  ...Object.values(AuditEvent),
  ...Object.keys(SEED_EVENT_ALIASES),
];

/** What an accepted `event_type` filter selects: our event type, and for some aliases one route. */
export function eventFilterOf(name: string): { event: AuditEventType; path?: string } | undefined {
  const alias = SEED_EVENT_ALIASES[name];
  if (alias) return alias;
  return (Object.values(AuditEvent) as string[]).includes(name)
    ? { event: name as AuditEventType }
    : undefined;
}
