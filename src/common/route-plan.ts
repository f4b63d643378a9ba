import type { ExecutionContext } from '@nestjs/common';
import type { AuditEventType } from '../audit/audit-events';
import { AUTH_POLICY, type AuthPolicy, IS_PUBLIC } from '../auth/auth.decorators';
import { AUDIT_EVENT, PAGED } from './route-metadata';
import { RATE_LIMIT_GROUP, type RateLimitGroup } from './throttling/rate-limit.decorator';

/**
 * What the global guards and interceptors need to know about a route, read from its decorators
 * once per handler instead of on every request (the metadata of a handler never changes).
 */
export interface RoutePlan {
  isPublic: boolean;
  /** The auth policy (roles, freshness, token type); {} for a plain access-token route; null if public. */
  policy: AuthPolicy | null;
  rateLimitGroup: RateLimitGroup | undefined;
  auditEvent: AuditEventType | undefined;
  paged: boolean;
}

const plans = new WeakMap<object, RoutePlan>();

function read<T>(key: string, targets: object[]): T | undefined {
  for (const t of targets) {
    const v = Reflect.getMetadata(key, t) as T | undefined;
    if (v !== undefined) return v;
  }
  return undefined;
}

/** The plan of the route `context` runs (handler metadata over its controller's, as Reflector.getAllAndOverride). */
export function routePlan(context: ExecutionContext): RoutePlan {
  const handler = context.getHandler();
  let plan = plans.get(handler);
  if (!plan) {
    const targets = [handler, context.getClass()];
    const isPublic = read<boolean>(IS_PUBLIC, targets) === true;
    plan = {
      isPublic,
      policy: isPublic ? null : (read<AuthPolicy>(AUTH_POLICY, targets) ?? {}),
      rateLimitGroup: read<RateLimitGroup>(RATE_LIMIT_GROUP, [handler]),
      auditEvent: read<AuditEventType>(AUDIT_EVENT, [handler]),
      paged: read<boolean>(PAGED, [handler]) === true,
    };
    plans.set(handler, plan);
  }
  return plan;
}
