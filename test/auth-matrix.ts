import { type Policy, ROUTES, type RouteKey, routeKey } from './route-table';
/**
 * Authorization matrix (issue 7): every route × 8 caller identities → the expected outcome.
 * test/auth-matrix.e2e-spec.ts plays every cell against one app and asserts the table.
 *
 * The route list and policies are test/route-table.ts, the same table the routes test checks against
 * the routes the app serves.
 *
 * An outcome is an exact status, or:
 *   'allowed'  auth passed: the answer is neither 401 nor 403 (nor 5xx); it may be 2xx, 400, 404,
 *              409 or 422 depending on the body and the state;
 *   'ok'       auth passed and the request succeeded (2xx); used where a 404 for another identity is
 *              only meaningful if the owner really reaches the object.
 */

export const IDENTITIES = [
  'anonymous', // no Authorization header
  'user', // an active USER, fresh token from login; owns the objects the :id routes name
  'other_user', // a second active USER, fresh token from login
  'admin', // an ADMIN, fresh token from login
  'admin_not_fresh', // the same ADMIN, access token from POST /refresh (never fresh)
  'expired', // the ADMIN's claims, correctly signed, with `exp` in the past
  'alg_none', // the ADMIN's claims under {"alg":"none"} and no signature
  'suspended', // a USER who logged in and was then suspended by an admin; old tokens
] as const;
export type Identity = (typeof IDENTITIES)[number];

export type Outcome = 'allowed' | 'ok' | 401 | 403 | 404;

/** The rule: what a policy gives each identity when nothing about the object or body matters. */
export function outcomeFromPolicy(policy: Policy, who: Identity): Outcome {
  if (policy === 'public') return 'allowed';
  switch (who) {
    case 'anonymous':
    case 'expired':
    case 'alg_none':
      return 401;
    case 'suspended':
      // Account status is checked before anything else about the session (refresh tokens too).
      return 403;
    case 'user':
    case 'other_user':
      // Tokens from login are fresh, so `user+fresh` passes.
      return policy.startsWith('admin') ? 403 : 'allowed';
    case 'admin':
      return 'allowed';
    case 'admin_not_fresh':
      return policy.endsWith('+fresh') ? 403 : 'allowed';
  }
}

/** Every identity except `user` is a stranger to the user's private object: 404, never 2xx or 403. */
const ownedByUser: Partial<Record<Identity, Outcome>> = {
  user: 'ok',
  other_user: 404,
  admin: 404,
  admin_not_fresh: 404,
};

/**
 * Where the rule differs. The :id of a user-route names an object owned by `user` (the spec creates
 * them); admin-route :ids name another user's objects.
 */
export const OVERRIDES: Partial<Record<RouteKey, Partial<Record<Identity, Outcome>>>> = {
  // Public login routes ignore the bearer token but read the credentials in the body: each identity
  // logs in with its own (anonymous, expired and alg_none with a spare account's), so the suspended
  // user is refused on the account status.
  'POST /login': { suspended: 403 },
  'POST /authentication': { suspended: 403 },
  // Public to the JWT guard, but it takes METRICS_TOKEN, which no identity holds (the test app sets none).
  'GET /metrics': Object.fromEntries(IDENTITIES.map((who) => [who, 401])),
  // Owner-only objects of `user`.
  'PATCH /notifications/:id/read': ownedByUser,
  'DELETE /notifications/:id': ownedByUser,
  'DELETE /alerts/:id': ownedByUser,
  'DELETE /watchlist/:id': ownedByUser,
  // A cancelled offer: only its creator may still read it; others get 404 as for a missing one.
  'GET /market/offers/:id': ownedByUser,
  // Only the creator may cancel an offer; others get 404 (the contract's preferred answer).
  'DELETE /market/offers/:id': ownedByUser,
  // A user cancels their own pending deposit or withdrawal; anyone else's is 404.
  'DELETE /wallet/deposits/:id': ownedByUser,
  'DELETE /wallet/withdrawals/:id': ownedByUser,
  // Webhooks are their owner's: anyone else's answer is 404, as for a missing one.
  'DELETE /webhooks/:id': ownedByUser,
  'POST /webhooks/:id/rotate-secret': ownedByUser,
  'GET /webhooks/:id/deliveries': ownedByUser,
  'POST /webhooks/:id/deliveries/:delivery_id/retry': ownedByUser,
  'POST /webhooks/:id/test': ownedByUser,
  // NOT overridden: POST /market/offers/:id/accept — an open offer is public and taking another
  // user's offer is the point of the market (the maker taking their own gets 422, still 'allowed').
  // Refresh-token routes (/refresh, /logout_refresh) follow the rule: each identity presents its own
  // refresh token (a throwaway session's), the suspended user their pre-suspension one (403).
};

export function expectedOutcome(key: RouteKey, policy: Policy, who: Identity): Outcome {
  return OVERRIDES[key]?.[who] ?? outcomeFromPolicy(policy, who);
}

export interface MatrixRow {
  method: string;
  path: string;
  policy: Policy;
  expected: Record<Identity, Outcome>;
}

/** The whole table, one row per route. */
export const AUTH_MATRIX: MatrixRow[] = ROUTES.map(([method, path, policy]) => {
  const key = routeKey(method, path);
  const expected = Object.fromEntries(
    IDENTITIES.map((who) => [who, expectedOutcome(key, policy, who)]),
  ) as Record<Identity, Outcome>;
  return { method, path, policy, expected };
});

/** Whether a status satisfies an outcome. */
export function satisfies(outcome: Outcome, status: number): boolean {
  if (outcome === 'ok') return status >= 200 && status < 300;
  if (outcome === 'allowed') return status !== 401 && status !== 403 && status < 500;
  return status === outcome;
}
