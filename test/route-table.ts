/**
 * Every route the app serves (Swagger's /docs* excluded) and who may call it. A change to a route or
 * to its auth requirement must change this table, so it shows up in review.
 *   public       no token
 *   user         any active user's access token
 *   user+fresh   ... that is fresh (POST /auth/fresh or a recent login)
 *   admin        an ADMIN's access token
 *   admin+fresh  ... that is fresh
 *   refresh      a refresh token as Bearer
 */
export type Policy = 'public' | 'user' | 'user+fresh' | 'admin' | 'admin+fresh' | 'refresh';

export const ROUTES = [
  // operations
  ['GET', '/health', 'public'],
  ['GET', '/health/live', 'public'],
  ['GET', '/health/ready', 'public'],
  ['GET', '/metrics', 'public'],
  // live updates (GET /stream takes a one-time ticket instead of a token)
  ['POST', '/stream/ticket', 'user'],
  ['GET', '/stream', 'public'],
  // accounts and tokens
  ['POST', '/user', 'public'],
  ['POST', '/login', 'public'],
  ['POST', '/authentication', 'public'],
  ['POST', '/refresh', 'refresh'],
  ['POST', '/logout', 'user'],
  ['POST', '/logout_refresh', 'refresh'],
  ['POST', '/auth/fresh', 'user'],
  ['GET', '/whoami', 'user'],
  ['PUT', '/user/password', 'user+fresh'],
  // preferences
  ['GET', '/preferences', 'user'],
  ['PUT', '/preferences', 'user'],
  // audit
  ['GET', '/logs', 'user'],
  ['GET', '/admin/logs', 'admin'],
  ['GET', '/admin/logs/export', 'admin'],
  // backups
  ['POST', '/admin/backup', 'admin+fresh'],
  ['GET', '/admin/backup/status', 'admin'],
  ['POST', '/admin/restore', 'admin+fresh'],
  // admin: users
  ['GET', '/admin/users', 'admin'],
  ['PUT', '/admin/users/:id/status', 'admin+fresh'],
  ['PUT', '/admin/users/:id/role', 'admin+fresh'],
  ['PUT', '/admin/users/:id/trust', 'admin+fresh'],
  ['GET', '/admin/users/:id/preferences', 'admin'],
  ['PUT', '/admin/users/:id/preferences', 'admin+fresh'],
  // wallet and ledger
  ['GET', '/wallet', 'user'],
  ['GET', '/wallet/ledger', 'user'],
  ['POST', '/admin/users/:id/wallet/adjust', 'admin+fresh'],
  ['GET', '/admin/ledger/verify', 'admin'],
  // deposits and withdrawals
  ['POST', '/wallet/deposits', 'user'],
  ['GET', '/wallet/deposits', 'user'],
  ['DELETE', '/wallet/deposits/:id', 'user'],
  ['POST', '/wallet/withdrawals', 'user'],
  ['GET', '/wallet/withdrawals', 'user'],
  ['DELETE', '/wallet/withdrawals/:id', 'user'],
  ['GET', '/admin/deposits', 'admin'],
  ['GET', '/admin/withdrawals', 'admin'],
  ['POST', '/admin/deposits/:id/confirm', 'admin+fresh'],
  ['POST', '/admin/deposits/:id/reject', 'admin+fresh'],
  ['POST', '/admin/withdrawals/:id/complete', 'admin+fresh'],
  ['POST', '/admin/withdrawals/:id/reject', 'admin+fresh'],
  // quotes and conversions against the house
  ['POST', '/quotes', 'user'],
  ['POST', '/wallet/convert', 'user'],
  ['GET', '/wallet/conversions', 'user'],
  ['GET', '/admin/house', 'admin'],
  // transactions
  ['POST', '/transaction', 'user'],
  ['GET', '/transactions', 'user'],
  ['GET', '/transaction', 'user'],
  ['GET', '/transactions/export', 'user'],
  // market rate, analytics, history
  ['GET', '/exchangeRate', 'public'],
  ['GET', '/exchangeRate/history', 'public'],
  ['GET', '/exchangeRate/official', 'public'],
  ['GET', '/exchangeRate/official/history', 'public'],
  ['GET', '/forecast/exchange-rate', 'user'],
  ['GET', '/analytics/exchange-rate', 'user'],
  ['GET', '/history/exchange-rate', 'user'],
  // reports
  ['GET', '/reports/summary', 'user'],
  ['GET', '/admin/stats/transactions', 'admin'],
  ['GET', '/admin/reports/summary', 'admin'],
  // admin: rate samples and data quality
  ['POST', '/admin/rates', 'admin'],
  ['POST', '/admin/rates/import', 'admin'],
  ['PATCH', '/admin/rates/:id', 'admin+fresh'],
  ['PUT', '/admin/rates/official', 'admin+fresh'],
  ['GET', '/admin/data-quality', 'admin'],
  // notifications
  ['GET', '/notifications', 'user'],
  ['GET', '/notifications/unread-count', 'user'],
  ['PATCH', '/notifications/read-all', 'user'],
  ['PATCH', '/notifications/:id/read', 'user'],
  ['DELETE', '/notifications/:id', 'user'],
  // webhooks
  ['POST', '/webhooks', 'user'],
  ['GET', '/webhooks', 'user'],
  ['DELETE', '/webhooks/:id', 'user'],
  ['POST', '/webhooks/:id/rotate-secret', 'user'],
  ['GET', '/webhooks/:id/deliveries', 'user'],
  ['POST', '/webhooks/:id/deliveries/:delivery_id/retry', 'user'],
  ['POST', '/webhooks/:id/test', 'user'],
  // alerts
  ['POST', '/alerts', 'user'],
  ['GET', '/alerts', 'user'],
  ['GET', '/alerts/triggered', 'user'],
  ['DELETE', '/alerts/:id', 'user'],
  ['GET', '/admin/users/:id/alerts', 'admin'],
  ['DELETE', '/admin/alerts/:id', 'admin+fresh'],
  // P2P marketplace
  ['POST', '/market/offers', 'user'],
  ['GET', '/market/offers', 'user'],
  ['GET', '/market/offers/mine', 'user'],
  ['GET', '/market/offers/:id', 'user'],
  ['DELETE', '/market/offers/:id', 'user'],
  ['POST', '/market/offers/:id/accept', 'user'],
  ['GET', '/market/trades', 'user'],
  ['DELETE', '/admin/market/offers/:id', 'admin+fresh'],
  // watchlist
  ['POST', '/watchlist', 'user'],
  ['GET', '/watchlist', 'user'],
  ['DELETE', '/watchlist/:id', 'user'],
] as const satisfies readonly (readonly [string, string, Policy])[];

/** "METHOD /path" of each route of the table (distributed over the rows, not their cross product). */
type KeyOf<R> = R extends readonly [infer M extends string, infer P extends string, Policy]
  ? `${M} ${P}`
  : never;
export type RouteKey = KeyOf<(typeof ROUTES)[number]>;

export const routeKey = (method: string, path: string): RouteKey => `${method} ${path}` as RouteKey;

/**
 * "METHOD /path" of every route Fastify has, read from its route tree printout (the only public
 * listing): each line is a path segment indented 4 characters per level, with its methods.
 */
export function servedRoutes(tree: string): string[] {
  const prefixes: string[] = [''];
  const out = new Set<string>();
  for (const line of tree.split('\n')) {
    const m = /^([\s│├└─]*)(\S.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = Math.round(m[1].length / 4);
    const path = `${prefixes[depth - 1] ?? ''}${m[2]}`;
    prefixes[depth] = path;
    prefixes.length = depth + 1;
    for (const method of (m[3] ?? '').split(',').map((x) => x.trim())) {
      if (!method || method === 'HEAD' || method === 'OPTIONS' || /^\/docs\b/.test(path)) continue;
      out.add(`${method} ${path}`);
    }
  }
  return [...out].sort();
}
