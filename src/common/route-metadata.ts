/**
 * Metadata keys read by route-plan.ts, apart from the decorators that set them: the decorators
 * import their interceptors, which read the route plan, so the keys cannot live with them without
 * an import cycle.
 */

/** The audit event of a route (@Audit). */
export const AUDIT_EVENT = 'audit:event';

/** Routes that answer a Paged list (@ApiPaged; PagingInterceptor acts on those only). */
export const PAGED = 'paging:paged';
